import { callFeishu } from '../../feishu/call-feishu.js';
import type { FeishuClient } from '../../feishu/feishu-client.js';
import type { EventBus } from '../../observe/event-bus.js';
import type { FeishuAccess } from './tool-definition.js';

/** One message read back from Feishu's history API, reduced to what an agent can use. */
export interface FeishuHistoryMessage {
  messageId: string;
  /** open_id of a user, or app id of a bot. */
  senderId: string;
  senderType: 'user' | 'app' | string;
  text: string;
  /** Epoch ms. */
  createTime: number;
  messageType: string;
  threadId?: string;
  rootId?: string;
}

export interface ListMessagesOptions {
  client: FeishuClient;
  /** Reports each request through `callFeishu` on this bus (when `call` is not given). */
  bus?: EventBus;
  /** Runs each request instead of `callFeishu` (a tool's Feishu access, with its identity and deadline). */
  call?: FeishuAccess['call'];
  /** `chat` takes a chat id (oc_…), `thread` a thread id (omt_…). */
  container: { type: 'chat' | 'thread'; id: string };
  /** `asc` oldest first (seeding a thread), `desc` newest first (a summary of recent talk). */
  order: 'asc' | 'desc';
  /** Feishu allows at most 50 per page. */
  pageSize?: number;
  /** Pages read at most: the bound on API calls for one request. */
  maxPages?: number;
  /** Messages kept at most. */
  maxMessages?: number;
  timeoutMs?: number;
}

/**
 * Reads a chat's or thread's messages through `im.v1.message.list`, page by page, bounded by
 * `maxPages` and `maxMessages`. Deleted messages are skipped. Always returns oldest first.
 *
 * @example
 * const messages = await listMessages({ client, bus, container: { type: 'thread', id: 'omt_1' }, order: 'asc' });
 */
export async function listMessages({
  client,
  bus,
  call,
  container,
  order,
  pageSize = 50,
  maxPages = 4,
  maxMessages = 200,
  timeoutMs = 10_000,
}: ListMessagesOptions): Promise<FeishuHistoryMessage[]> {
  const collected: FeishuHistoryMessage[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < maxPages && collected.length < maxMessages; page++) {
    const params = {
      container_id_type: container.type,
      container_id: container.id,
      sort_type: order === 'asc' ? ('ByCreateTimeAsc' as const) : ('ByCreateTimeDesc' as const),
      page_size: Math.min(50, Math.max(1, pageSize)),
      ...(pageToken === undefined ? {} : { page_token: pageToken }),
    };
    const body =
      call !== undefined
        ? await call('im.v1.message.list', (options) => client.im.v1.message.list({ params }, options))
        : await callFeishu(requireBus(bus), 'im.v1.message.list', () => client.im.v1.message.list({ params }), {
            client,
            timeoutMs,
          });
    for (const item of body.data?.items ?? []) {
      if (item.deleted === true || item.message_id === undefined) continue;
      collected.push({
        messageId: item.message_id,
        senderId: item.sender?.id ?? 'unknown',
        senderType: item.sender?.sender_type ?? 'unknown',
        text: historyItemText(item.msg_type ?? 'unknown', item.body?.content, item.mentions),
        createTime: Number(item.create_time ?? 0),
        messageType: item.msg_type ?? 'unknown',
        ...(item.thread_id ? { threadId: item.thread_id } : {}),
        ...(item.root_id ? { rootId: item.root_id } : {}),
      });
      if (collected.length >= maxMessages) break;
    }
    if (body.data?.has_more !== true || !body.data.page_token) break;
    pageToken = body.data.page_token;
  }
  return order === 'asc' ? collected : collected.reverse();
}

/**
 * The text of one message (`im.v1.message.get`), e.g. the one a user replied to; undefined when
 * it cannot be read. Bounded like history items.
 *
 * @example
 * const quoted = await readMessageText({ client, bus, messageId: 'om_1' });
 */
export async function readMessageText({
  client,
  bus,
  messageId,
  timeoutMs = 3_000,
}: {
  client: FeishuClient;
  bus: EventBus;
  messageId: string;
  timeoutMs?: number;
}): Promise<string | undefined> {
  const body = await callFeishu(
    bus,
    'im.v1.message.get',
    () => client.im.v1.message.get({ path: { message_id: messageId } }),
    { client, timeoutMs },
  );
  const item = body.data?.items?.[0];
  if (item === undefined || item.deleted === true) return undefined;
  return historyItemText(item.msg_type ?? 'unknown', item.body?.content, item.mentions);
}

function requireBus(bus: EventBus | undefined): EventBus {
  if (bus === undefined) throw new Error('listMessages needs a bus or a call function');
  return bus;
}

const MAX_ITEM_TEXT = 4_000;

/**
 * Plain text of a history item. Text and post messages are read properly; cards (the bot's own
 * answers are cards) by collecting their text fields; anything else becomes a short tag such as
 * `[image]` so the agent knows something was there.
 */
export function historyItemText(
  messageType: string,
  content: string | undefined,
  mentions: readonly { key: string; name: string }[] = [],
): string {
  let parsed: unknown;
  try {
    parsed = content === undefined ? undefined : JSON.parse(content);
  } catch {
    return bound(content ?? '');
  }
  let text: string;
  switch (messageType) {
    case 'text':
      text = typeof (parsed as { text?: unknown })?.text === 'string' ? (parsed as { text: string }).text : '';
      break;
    case 'post':
    case 'interactive':
      text = collectText(parsed, 0).join(messageType === 'post' ? '' : '\n');
      break;
    default:
      return `[${messageType}]`;
  }
  for (const mention of mentions) text = text.split(mention.key).join(`@${mention.name}`);
  return bound(text.trim());
}

/** Walks card/post JSON collecting human text, bounded in depth. */
function collectText(value: unknown, depth: number): string[] {
  if (depth > 12 || value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    const lines: string[] = [];
    for (const item of value) {
      const inner = collectText(item, depth + 1);
      // A post paragraph is an array of inline elements: join them into one line.
      if (Array.isArray(item)) lines.push(`${inner.join('')}\n`);
      else lines.push(...inner);
    }
    return lines;
  }
  if (typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const lines: string[] = [];
  if (typeof record.title === 'string' && record.title.length > 0) lines.push(`${record.title}\n`);
  for (const key of ['text', 'content'] as const) {
    const field = record[key];
    if (typeof field === 'string') lines.push(field);
    else if (field !== undefined) lines.push(...collectText(field, depth + 1));
  }
  if (record.tag === 'at' && typeof record.user_name === 'string') lines.push(`@${record.user_name}`);
  for (const key of ['elements', 'body', 'header', 'columns', 'i18n_elements', 'zh_cn', 'en_us']) {
    if (record[key] !== undefined) lines.push(...collectText(record[key], depth + 1));
  }
  return lines;
}

function bound(text: string): string {
  return text.length > MAX_ITEM_TEXT ? `${text.slice(0, MAX_ITEM_TEXT)}…` : text;
}

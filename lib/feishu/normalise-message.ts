/**
 * Turns an `im.message.receive_v1` event into what the conversation step needs: who, where,
 * and plain text with mentions resolved to @names (the bot's own mention removed). Pure: no
 * I/O, so it is trivially testable and can run on a resumed job's stored payload.
 *
 * Why not the SDK's `normalize`: it is async, renders `post` as Markdown (bold titles, link
 * syntax, `![image](key)`), keeps the bot mention inside `post`, and doubles the `@` of an
 * `at` element without `user_name`. See docs/ingress.md.
 */

import type { ChatType, MessageMention, MessageSender, NormalisedMessage } from '../conversation/inbound-message.js';
import { compactParts, type MessagePart, type RelatedMessage } from '../conversation/message-parts.js';

export type { ChatType, MessageMention, MessageSender, NormalisedMessage };

/** Sender types Feishu uses for bots: `bot` in receive events, `app` in the message APIs. */
export const BOT_SENDER_TYPES: ReadonlySet<string> = new Set(['bot', 'app']);

/** The reason a message from a bot is not answered (nor noticed): two bots would answer each other forever. */
export const BOT_SENDER_REASON = 'sender is a bot';

/**
 * Which kind of bot sent the message, or undefined for a person: `self` (our own open_id, whatever
 * the type), else the bot sender type.
 *
 * @example
 * if (botSender(message.sender) !== undefined) return; // never answer a bot
 */
export function botSender(sender: Pick<MessageSender, 'type' | 'self'>): 'self' | 'bot' | 'app' | undefined {
  if (sender.self === true) return 'self';
  if (sender.type === 'bot' || sender.type === 'app') return sender.type;
  return undefined;
}

export type UnsupportedReason = 'MESSAGE_TYPE_UNSUPPORTED' | 'MALFORMED';

/** A message we cannot read; chat details are kept when present so the bot can say so politely. */
export interface UnsupportedMessage {
  kind: 'unsupported';
  reason: UnsupportedReason;
  detail: string;
  messageType?: string;
  messageId?: string;
  chatId?: string;
  chatType?: ChatType;
  sender?: MessageSender;
}

export type NormaliseResult = NormalisedMessage | UnsupportedMessage;

export interface NormaliseOptions {
  /** The bot's own open_id (from bot/v3/info): a mention of it is a call to the bot. */
  botOpenId: string | undefined;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const SUPPORTED_TYPES = new Set(['text', 'post', 'image', 'file', 'audio', 'media', 'sticker', 'merge_forward']);
const ALL_KEY = '@_all';

function readMentions(raw: unknown): MessageMention[] {
  if (!Array.isArray(raw)) return [];
  const mentions: MessageMention[] = [];
  for (const item of raw) {
    if (!isObject(item)) continue;
    const key = text(item.key);
    if (key === undefined) continue;
    // Events carry `id: { open_id }`; message items from the Open API carry `id: "ou_…"`.
    const openId = isObject(item.id) ? text(item.id.open_id) : text(item.id);
    mentions.push({ key, openId, name: text(item.name) ?? openId ?? 'someone' });
  }
  return mentions;
}

/** Whitespace tidy-up after removing the bot mention: no doubled spaces, no blank edges. */
function tidy(value: string): string {
  return value
    .split('\n')
    .map((line) => line.replace(/[ \t]{2,}/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

interface MentionResolver {
  /** '' for the bot itself, '@Name' otherwise. */
  byKey(key: string): string | undefined;
  byOpenId(openId: string): string | undefined;
}

function resolver(mentions: readonly MessageMention[], botOpenId: string | undefined): MentionResolver {
  const render = (mention: MessageMention) =>
    botOpenId !== undefined && mention.openId === botOpenId ? '' : `@${mention.name}`;
  return {
    byKey(key) {
      if (key === ALL_KEY) return '@all';
      const mention = mentions.find((candidate) => candidate.key === key);
      return mention ? render(mention) : undefined;
    },
    byOpenId(openId) {
      if (botOpenId !== undefined && openId === botOpenId) return '';
      const mention = mentions.find((candidate) => candidate.openId === openId);
      return mention ? render(mention) : undefined;
    },
  };
}

function plainFromText(content: JsonObject, mentions: MentionResolver): string {
  const raw = typeof content.text === 'string' ? content.text : '';
  // \d+ is greedy, so @_user_10 is one key, not @_user_1 followed by "0".
  return raw.replace(/@_(?:user_\d+|all)/g, (key) => mentions.byKey(key) ?? key);
}

/** `post` content comes localised (`{ zh_cn: {...} }`) from some APIs and bare from events. */
function postBody(content: JsonObject): { title: string; lines: unknown[] } | undefined {
  if (Array.isArray(content.content)) return { title: text(content.title) ?? '', lines: content.content };
  for (const value of Object.values(content)) {
    if (isObject(value) && Array.isArray(value.content))
      return { title: text(value.title) ?? '', lines: value.content };
  }
  return undefined;
}

/** One piece of a message: words, or a part that is not words (an image, a video). */
type Segment = string | MessagePart;

function postElementSegment(element: unknown, mentions: MentionResolver, messageId: string): Segment {
  if (!isObject(element)) return '';
  switch (element.tag) {
    case 'text':
    case 'md':
      return typeof element.text === 'string' ? element.text : '';
    case 'a': {
      const label = text(element.text);
      const href = text(element.href);
      if (label && href && label !== href) return `${label} (${href})`;
      return label ?? href ?? '';
    }
    case 'at': {
      const key = text(element.user_id);
      const resolved =
        (key && (mentions.byKey(key) ?? (key.startsWith('ou_') ? mentions.byOpenId(key) : undefined))) ??
        (text(element.open_id) ? mentions.byOpenId(element.open_id as string) : undefined);
      if (resolved !== undefined) return resolved;
      if (key === 'all') return '@all';
      const name = text(element.user_name);
      return name ? `@${name.replace(/^@/, '')}` : '';
    }
    case 'code_block': {
      if (typeof element.text !== 'string') return '';
      const language = text(element.language)?.toLowerCase() ?? '';
      return { type: 'text', text: `\n\`\`\`${language}\n${element.text.replace(/\n$/, '')}\n\`\`\`\n` };
    }
    case 'emotion':
      return text(element.emoji_type) ? `:${element.emoji_type as string}:` : '';
    case 'img': {
      const key = text(element.image_key);
      return key ? { type: 'image', messageId, key } : '[image]';
    }
    case 'media':
      return { type: 'unreadable', what: 'a video' };
    case 'hr':
      return '\n---\n';
    default:
      return typeof element.text === 'string' ? element.text : '';
  }
}

/** What a non-text segment reads as in the plain text. */
function plainOf(segment: Segment): string {
  if (typeof segment === 'string') return segment;
  switch (segment.type) {
    case 'text':
      // A code block: the plain text keeps it on lines of its own, without the fence.
      return segment.text.replace(/^\n```[^\n]*\n/, '\n').replace(/\n```\n$/, '\n');
    case 'image':
      return '[image]';
    case 'unreadable':
      return `[${segment.what.replace(/^an? /, '')}]`;
    default:
      return '';
  }
}

function partOf(segment: Segment): MessagePart {
  return typeof segment === 'string' ? { type: 'text', text: segment } : segment;
}

function postSegments(content: JsonObject, mentions: MentionResolver, messageId: string): Segment[] | undefined {
  const body = postBody(content);
  if (body === undefined) return undefined;
  const segments: Segment[] = [];
  if (body.title.length > 0) segments.push(body.title);
  body.lines.forEach((line, index) => {
    if (index > 0 || body.title.length > 0) segments.push('\n');
    if (Array.isArray(line))
      for (const element of line) segments.push(postElementSegment(element, mentions, messageId));
  });
  return segments;
}

/** The segments of a message's content by type, or undefined when the content is not what the type promises. */
function contentSegments(
  messageType: string,
  content: JsonObject,
  mentions: MentionResolver,
  messageId: string,
): Segment[] | undefined {
  switch (messageType) {
    case 'text':
      return [plainFromText(content, mentions)];
    case 'post':
      return postSegments(content, mentions, messageId);
    case 'image': {
      const key = text(content.image_key);
      return key ? [{ type: 'image', messageId, key }] : undefined;
    }
    case 'file': {
      const key = text(content.file_key);
      if (!key) return undefined;
      const name = text(content.file_name);
      return [{ type: 'file', messageId, key, ...(name ? { name } : {}) }];
    }
    case 'audio': {
      const key = text(content.file_key);
      if (!key) return undefined;
      const duration = typeof content.duration === 'number' && content.duration > 0 ? content.duration : undefined;
      return [{ type: 'audio', messageId, key, ...(duration ? { durationMs: duration } : {}) }];
    }
    case 'media':
      return [{ type: 'unreadable', what: 'a video' }];
    case 'sticker':
      // Feishu serves no sticker resources, so there is nothing to download.
      return [{ type: 'unreadable', what: 'a sticker' }];
    case 'merge_forward':
      return [{ type: 'forward', messageId }];
    default:
      return undefined;
  }
}

/**
 * The plain text and the ordered parts of one message's content, mentions resolved. Shared by
 * the event path and by messages read back from the Open API (a quote, a forwarded bundle).
 *
 * @example
 * readContent({ messageType: 'image', content: '{"image_key":"img_1"}', messageId: 'om_1', mentions: [], botOpenId });
 * // { text: '[image]', parts: [{ type: 'image', messageId: 'om_1', key: 'img_1' }] }
 */
export function readContent({
  messageType,
  content,
  messageId,
  mentions,
  botOpenId,
}: {
  messageType: string;
  content: unknown;
  messageId: string;
  mentions: readonly MessageMention[];
  botOpenId: string | undefined;
}): { text: string; parts: MessagePart[] } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof content === 'string' ? content : '');
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const segments = contentSegments(messageType, parsed, resolver(mentions, botOpenId), messageId);
  if (segments === undefined) return undefined;
  return { text: tidy(segments.map(plainOf).join('')), parts: compactParts(segments.map(partOf)) };
}

function epochMs(value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(number) && number > 0 ? number : 0;
}

/**
 * A message event's content exactly as Feishu sent it (a JSON string), without reading it; for a
 * cheap test before `normaliseMessage` on a path every message takes. Undefined when absent.
 *
 * @example
 * const raw = rawMessageContent(inbound.event); // '{"text":"@_user_1 stop"}'
 */
export function rawMessageContent(event: unknown): string | undefined {
  if (!isObject(event) || !isObject(event.message)) return undefined;
  return typeof event.message.content === 'string' ? event.message.content : undefined;
}

/**
 * @example
 * const result = normaliseMessage(job.payload.event, { botOpenId: identity.openId });
 * if (result.kind === 'message' && shouldAnswer(result)) await answer(result.text);
 */
export function normaliseMessage(event: unknown, { botOpenId }: NormaliseOptions): NormaliseResult {
  if (!isObject(event) || !isObject(event.message)) {
    return { kind: 'unsupported', reason: 'MALFORMED', detail: 'event has no message' };
  }
  const message = event.message;
  const sender = isObject(event.sender) ? event.sender : {};
  const senderIds = isObject(sender.sender_id) ? sender.sender_id : {};
  const messageId = text(message.message_id);
  const chatId = text(message.chat_id);
  const chatType: ChatType = message.chat_type === 'p2p' ? 'p2p' : 'group';
  const messageType = text(message.message_type) ?? 'unknown';
  const senderOpenId = text(senderIds.open_id) ?? '';
  const senderInfo: MessageSender = {
    openId: senderOpenId,
    type: text(sender.sender_type) ?? 'unknown',
    ...(botOpenId !== undefined && senderOpenId === botOpenId ? { self: true as const } : {}),
  };
  const where = {
    messageType,
    ...(messageId ? { messageId } : {}),
    ...(chatId ? { chatId, chatType } : {}),
    sender: senderInfo,
  };
  if (messageId === undefined || chatId === undefined) {
    return { kind: 'unsupported', reason: 'MALFORMED', detail: 'message without message_id or chat_id', ...where };
  }
  if (!SUPPORTED_TYPES.has(messageType)) {
    return {
      kind: 'unsupported',
      reason: 'MESSAGE_TYPE_UNSUPPORTED',
      detail: `${messageType} messages are not read`,
      ...where,
    };
  }
  let content: unknown;
  try {
    content = JSON.parse(typeof message.content === 'string' ? message.content : '');
  } catch {
    return { kind: 'unsupported', reason: 'MALFORMED', detail: 'content is not JSON', ...where };
  }
  if (!isObject(content)) {
    return { kind: 'unsupported', reason: 'MALFORMED', detail: 'content is not an object', ...where };
  }
  const mentions = readMentions(message.mentions);
  const read = readContent({ messageType, content: message.content, messageId, mentions, botOpenId });
  if (read === undefined) {
    return { kind: 'unsupported', reason: 'MALFORMED', detail: `${messageType} without content`, ...where };
  }
  const rootId = text(message.root_id);
  const threadId = text(message.thread_id);
  const parentId = text(message.parent_id);
  // A reply brings the message it answers into the turn (read in the job, not here).
  const parts: MessagePart[] = parentId ? [{ type: 'quote', messageId: parentId }, ...read.parts] : read.parts;
  return {
    kind: 'message',
    messageId,
    chatId,
    chatType,
    ...(rootId ? { rootId } : {}),
    ...(threadId ? { threadId } : {}),
    ...(parentId ? { parentId } : {}),
    sender: senderInfo,
    text: read.text,
    parts,
    mentions,
    mentionsBot: botOpenId !== undefined && mentions.some((mention) => mention.openId === botOpenId),
    createTime: epochMs(message.create_time),
    messageType,
  };
}

/** Why a readable message gets no answer, or undefined when it should be answered. */
export function ignoreReason(
  message: Pick<NormalisedMessage, 'chatType' | 'sender' | 'mentionsBot'>,
): string | undefined {
  // Bots (including ourselves) talking to each other loop forever.
  if (botSender(message.sender) !== undefined) return BOT_SENDER_REASON;
  if (message.chatType === 'p2p') return undefined;
  return message.mentionsBot ? undefined : 'group message without a mention of the bot';
}

/**
 * In a direct chat always; in a group only when the bot itself is mentioned; never to a bot.
 *
 * @example
 * if (!shouldAnswer(message)) bus.emit({ type: 'message.ignored', traceId, reason: ignoreReason(message) ?? '' });
 */
export function shouldAnswer(message: Pick<NormalisedMessage, 'chatType' | 'sender' | 'mentionsBot'>): boolean {
  return ignoreReason(message) === undefined;
}

/**
 * One message item of the Open API (`im.v1.message.get` / `list`: `msg_type`, `body.content`,
 * `sender.id`, `upper_message_id` inside a forwarded bundle) in the neutral shape. A type the
 * bot cannot read becomes one `unreadable` part naming it, so a bundle keeps its order.
 *
 * @example
 * const quoted = readMessageItem(body.data.items[0], { botOpenId });
 */
export function readMessageItem(item: unknown, { botOpenId }: NormaliseOptions): RelatedMessage | undefined {
  if (!isObject(item)) return undefined;
  const messageId = text(item.message_id);
  if (messageId === undefined) return undefined;
  const sender = isObject(item.sender) ? item.sender : {};
  const messageType = text(item.msg_type) ?? 'unknown';
  const body = isObject(item.body) ? item.body : {};
  const upperMessageId = text(item.upper_message_id);
  const base = {
    messageId,
    senderId: text(sender.id) ?? 'unknown',
    senderType: text(sender.sender_type) ?? 'unknown',
    createTime: epochMs(item.create_time),
    messageType,
    ...(upperMessageId ? { upperMessageId } : {}),
    ...(item.deleted === true ? { deleted: true } : {}),
  };
  if (item.deleted === true) return { ...base, text: '', parts: [] };
  const read = SUPPORTED_TYPES.has(messageType)
    ? readContent({ messageType, content: body.content, messageId, mentions: readMentions(item.mentions), botOpenId })
    : undefined;
  if (read !== undefined) return { ...base, ...read };
  const what = messageType === 'interactive' ? 'a card' : `a ${messageType.replace(/_/g, ' ')} message`;
  return { ...base, text: `[${what}]`, parts: [{ type: 'unreadable', what }] };
}

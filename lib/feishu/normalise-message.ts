/**
 * Turns an `im.message.receive_v1` event into what the conversation step needs: who, where,
 * and plain text with mentions resolved to @names (the bot's own mention removed). Pure: no
 * I/O, so it is trivially testable and can run on a resumed job's stored payload.
 *
 * Why not the SDK's `normalize`: it is async, renders `post` as Markdown (bold titles, link
 * syntax, `![image](key)`), keeps the bot mention inside `post`, and doubles the `@` of an
 * `at` element without `user_name`. See docs/ingress.md.
 */

export type ChatType = 'p2p' | 'group';

/** Who sent a message: Feishu's sender type, and `self` when its open_id is the bot's own. */
export interface MessageSender {
  openId: string;
  /** `user`, or a bot: `bot` (the receive event's schema) or `app` (the message-list API's). */
  type: string;
  /** Sent by this bot (its own message echoed back), whatever `type` says. */
  self?: true;
}

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

export interface MessageMention {
  /** Placeholder in the text, e.g. `@_user_1`. */
  key: string;
  openId: string | undefined;
  name: string;
}

export interface NormalisedMessage {
  kind: 'message';
  messageId: string;
  chatId: string;
  chatType: ChatType;
  rootId?: string;
  threadId?: string;
  parentId?: string;
  sender: MessageSender;
  /** Plain text; mentions as `@Name`, the bot's own mention removed. */
  text: string;
  mentions: MessageMention[];
  mentionsBot: boolean;
  /** Epoch ms. */
  createTime: number;
  messageType: string;
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

const SUPPORTED_TYPES = new Set(['text', 'post']);
const ALL_KEY = '@_all';

function readMentions(raw: unknown): MessageMention[] {
  if (!Array.isArray(raw)) return [];
  const mentions: MessageMention[] = [];
  for (const item of raw) {
    if (!isObject(item)) continue;
    const key = text(item.key);
    if (key === undefined) continue;
    const id = isObject(item.id) ? item.id : {};
    mentions.push({ key, openId: text(id.open_id), name: text(item.name) ?? text(id.open_id) ?? 'someone' });
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

function plainFromPostElement(element: unknown, mentions: MentionResolver): string {
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
    case 'code_block':
      return typeof element.text === 'string' ? `\n${element.text}\n` : '';
    case 'emotion':
      return text(element.emoji_type) ? `:${element.emoji_type as string}:` : '';
    case 'img':
      return '[image]';
    case 'media':
      return '[video]';
    case 'hr':
      return '\n---\n';
    default:
      return typeof element.text === 'string' ? element.text : '';
  }
}

function plainFromPost(content: JsonObject, mentions: MentionResolver): string | undefined {
  const body = postBody(content);
  if (body === undefined) return undefined;
  const lines = body.lines.map((line) =>
    Array.isArray(line) ? line.map((element) => plainFromPostElement(element, mentions)).join('') : '',
  );
  return [body.title, ...lines].filter((line, index) => index > 0 || line.length > 0).join('\n');
}

function epochMs(value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(number) && number > 0 ? number : 0;
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
  const resolve = resolver(mentions, botOpenId);
  const plain = messageType === 'text' ? plainFromText(content, resolve) : plainFromPost(content, resolve);
  if (plain === undefined) {
    return { kind: 'unsupported', reason: 'MALFORMED', detail: 'post without content', ...where };
  }
  const rootId = text(message.root_id);
  const threadId = text(message.thread_id);
  const parentId = text(message.parent_id);
  return {
    kind: 'message',
    messageId,
    chatId,
    chatType,
    ...(rootId ? { rootId } : {}),
    ...(threadId ? { threadId } : {}),
    ...(parentId ? { parentId } : {}),
    sender: senderInfo,
    text: tidy(plain),
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

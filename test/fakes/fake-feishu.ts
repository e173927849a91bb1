import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type HttpBindings, type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * A fake Feishu Open API on a real loopback HTTP port, faithful enough that the real
 * `@larksuiteoapi/node-sdk` Client pointed at it (`domain: fake.url`) works unmodified.
 *
 * It keeps "what the user would see" (messages, threads, CardKit cards with their streamed
 * element content) so tests can assert outcomes, records every call, and injects faults.
 *
 * Error codes and HTTP statuses follow the Feishu docs where they are documented (CardKit
 * table: 200740, 200850, 200860, 300309, 300310, 300317, all HTTP 400). Where the docs give no
 * code, the fake picks one and names it in `FEISHU_CODES` so tests never hard-code numbers.
 *
 * @example
 * const fake = await startFakeFeishu();
 * const client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
 * await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' },
 *   data: { receive_id: 'oc_1', msg_type: 'text', content: JSON.stringify({ text: 'hi' }) } });
 * expect(fake.messages()[0] && fake.visibleText(fake.messages()[0].messageId)).toBe('hi');
 * await fake.close();
 */

// ───────────────────────────── public types ─────────────────────────────

export type FeishuApiName =
  | 'auth.tenantAccessToken'
  | 'bot.info'
  | 'im.message.create'
  | 'im.message.reply'
  | 'im.message.patch'
  | 'im.message.update'
  | 'im.message.delete'
  | 'im.message.get'
  | 'im.message.list'
  | 'im.messageReaction.create'
  | 'im.messageReaction.delete'
  | 'im.messageReaction.list'
  | 'cardkit.card.create'
  | 'cardkit.card.settings'
  | 'cardkit.card.update'
  | 'cardkit.cardElement.content'
  | 'cardkit.cardElement.update'
  | 'cardkit.cardElement.patch'
  | 'unknown';

/** Codes the fake answers with. Tests should compare against these names, not literals. */
export const FEISHU_CODES = {
  ok: 0,
  /** Malformed JSON body. */
  badRequest: 9499,
  /** Token endpoint: wrong app_id/app_secret. */
  appSecretInvalid: 10014,
  /** CardKit generic parameter error (documented). */
  invalidParameter: 10002,
  /** IM generic parameter error (documented), also used for an unknown message_id. */
  imInvalidParameter: 230001,
  /** No Authorization header. */
  missingAccessToken: 99991661,
  /** Token unknown, expired or invalidated; the client must fetch a new one. */
  invalidAccessToken: 99991663,
  /** App-level frequency limit (documented as HTTP 400 + 99991400; gateways also send 429). */
  appRateLimited: 99991400,
  /** IM frequency limit; the fake also uses it for the CardKit 10 updates/s per card limit. */
  messageRateLimited: 230020,
  /** Message content over the limit (text 150 KB, post/card 30 KB). */
  messageTooLong: 230025,
  /** Reply/patch target was recalled (deleted). */
  messageRecalled: 230011,
  /** Card content could not be built (bad card JSON or card_id reference). */
  cardContentFailed: 230099,
  /** Text/post edited too often (the fake's choice of code; the limit is about 20 edits). */
  editLimitReached: 230072,
  cardNotFound: 200740,
  uuidConflict: 200770,
  cardJsonInvalid: 200220,
  cardTooLarge: 200860,
  /** Streaming closed itself after the streaming timeout (about 10 minutes). */
  streamingTimeout: 200850,
  /** Streaming mode is off (closed by settings). */
  streamingClosed: 300309,
  /** Streaming content update on an element that is not markdown/plain_text. */
  onlyUpdateText: 300310,
  /** `sequence` not strictly greater than the card's last accepted sequence. */
  sequenceNotIncreasing: 300317,
} as const;

export interface RecordedCall {
  method: string;
  /** Path without query string, e.g. `/open-apis/im/v1/messages/om_1/reply`. */
  path: string;
  api: FeishuApiName;
  query: Record<string, string>;
  /** Parsed JSON body (undefined when none or not JSON). */
  body: unknown;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** Fake clock (epoch ms) when the request arrived. */
  at: number;
  status: number;
  /** Feishu `code` in the answer (undefined for non-JSON answers such as dropped connections). */
  code: number | undefined;
  /** True when the answer came from `inject()`. */
  injected: boolean;
}

export interface FaultInjection {
  /** Which API to fail; `'*'` matches every API except the token endpoint. */
  api: FeishuApiName | '*';
  /** How many matching calls to affect (default 1; `Infinity` for all until `reset`). */
  times?: number;
  /** HTTP status. Default 400 when `code` is set; required otherwise unless only latency. */
  status?: number;
  /** Feishu code in the body. Default: 429 → 99991400, 5xx → none (plain text body). */
  code?: number;
  msg?: string;
  /** Extra latency before answering; alone (no status/code) the call then succeeds normally. */
  latencyMs?: number;
  /** Extra response headers, e.g. `{ 'x-ogw-ratelimit-reset': '1' }`. */
  headers?: Record<string, string>;
  /** Destroy the socket without answering (a network error on the client). */
  dropConnection?: boolean;
  /** Narrow further, e.g. to one message id. */
  match?: (call: { method: string; path: string; query: Record<string, string>; body: unknown }) => boolean;
}

export interface InjectedFault {
  /** Calls this fault has affected so far. */
  readonly hits: number;
  /** Calls it will still affect. */
  readonly remaining: number;
}

export interface FakeMessageSender {
  /** open_id for users, app_id for the bot. */
  id: string;
  idType: 'open_id' | 'app_id';
  senderType: 'user' | 'app';
}

export interface FakeMention {
  key: string;
  openId: string;
  name: string;
}

export interface FakeMessage {
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group';
  rootId: string | undefined;
  parentId: string | undefined;
  threadId: string | undefined;
  msgType: string;
  /** The JSON content string exactly as stored (as Feishu returns it in `body.content`). */
  content: string;
  /** Epoch ms. */
  createTime: number;
  updateTime: number;
  sender: FakeMessageSender;
  mentions: FakeMention[];
  deleted: boolean;
  /** True once patched/updated. */
  updated: boolean;
  /** Number of patch/update calls accepted. */
  editCount: number;
  /** Every content the message had, oldest first (bounded). */
  contentHistory: string[];
  /** The CardKit card this interactive message shows, if it referenced one. */
  cardId: string | undefined;
  /** The `uuid` it was sent with. */
  uuid: string | undefined;
  /** True when the bot sent it through the API (false for seeded/ingested user messages). */
  fromBot: boolean;
}

export interface FakeReaction {
  reactionId: string;
  messageId: string;
  emojiType: string;
  operatorId: string;
  operatorType: 'app' | 'user';
  actionTime: number;
}

export interface CardElementState {
  tag: string;
  /** Current `content` for markdown/plain_text elements (undefined for other tags). */
  content: string | undefined;
  /** Every accepted streamed content, oldest first (bounded). */
  contentHistory: string[];
}

export interface CardState {
  cardId: string;
  /** True while streaming_mode is on and the streaming timeout has not passed. */
  streaming: boolean;
  /** Why streaming is off: closed by settings/full update, timed out, or never on. */
  streamingClosedBy: 'settings' | 'timeout' | 'never-opened' | undefined;
  /** The current card JSON (schema 2.0) with every accepted update applied. */
  card: Record<string, unknown>;
  elements: Record<string, CardElementState>;
  /** Last accepted sequence (0 before any). */
  sequence: number;
  /** Accepted sequences in order, for every sequenced operation. */
  sequenceHistory: number[];
  /** Sequences that were rejected with 300317. */
  rejectedSequences: number[];
  /** Fake-clock ms of every accepted sequenced operation. */
  updateTimes: number[];
  /** The message that shows this card, once sent. */
  messageId: string | undefined;
  createdAt: number;
}

export interface RateLimitViolation {
  /** The card (CardKit limit) or chat (send limit) whose limit was exceeded. */
  cardId?: string;
  chatId?: string;
  api: FeishuApiName;
  at: number;
}

export interface SeedMessageOptions {
  chatId: string;
  chatType?: 'p2p' | 'group';
  /** Put the message in this thread (`omt_…`); the thread's root is `rootId` or the first message seeded in it. */
  threadId?: string;
  rootId?: string;
  parentId?: string;
  senderOpenId?: string;
  senderType?: 'user' | 'app';
  /** Shorthand for a text message. */
  text?: string;
  msgType?: string;
  /** Raw JSON content string (overrides `text`). */
  content?: string;
  /** Epoch ms (default: fake clock now). */
  createTime?: number;
  messageId?: string;
  mentions?: FakeMention[];
}

export interface FakeFeishuOptions {
  /** Default: `cli_` + 16 random hex digits (random so the SDK's process-wide token cache never mixes fakes). */
  appId?: string;
  appSecret?: string;
  botOpenId?: string;
  botName?: string;
  tenantKey?: string;
  /** `expire` returned with tokens, seconds (default 7200). The SDK caches for expire − 180 s. */
  tokenExpireSeconds?: number;
  /** HTTP status for 99991661/99991663 answers (default 400). */
  authErrorStatus?: number;
  /**
   * CardKit limit of sequenced updates per card per second. Default `{ perSecond: 10, reject: true }`.
   * `reject: false` only records violations; `false` turns the check off.
   */
  cardUpdateRateLimit?: { perSecond: number; reject: boolean } | false;
  /** Streaming mode closes itself this long after it was opened (default 10 minutes). */
  streamingTimeoutMs?: number;
  /** How long a message `uuid` de-duplicates (default 1 hour). */
  uuidWindowMs?: number;
  /** Ring size of `calls` (default 10 000). */
  maxRecordedCalls?: number;
  /** Oldest messages are dropped beyond this (default 50 000). */
  maxStoredMessages?: number;
  /**
   * Feishu's 5 messages/s per chat (shared by all bots in a group). Off by default; when on, a
   * create/reply over the limit answers HTTP 400 + 230020 and is recorded in `rateLimitViolations`.
   */
  chatSendRateLimit?: { perSecond: number } | false;
  /** Latency added to every answer (default 0). */
  latencyMs?: number;
  /** The fake's clock in epoch ms (default `Date.now`); tests freeze it to make rate limits deterministic. */
  clock?: () => number;
}

export interface WaitForOptions {
  timeoutMs?: number;
  /** Shown in the timeout error. */
  description?: string;
}

export interface FakeFeishu {
  /** Base URL to use as FEISHU_DOMAIN, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly botName: string;
  readonly tenantKey: string;
  /** `FEISHU_APP_ID`, `FEISHU_APP_SECRET`, `FEISHU_DOMAIN` pointing at this fake (merge into a config env). */
  env(): { FEISHU_APP_ID: string; FEISHU_APP_SECRET: string; FEISHU_DOMAIN: string };
  /** Every call in arrival order (bounded ring). */
  readonly calls: readonly RecordedCall[];
  callsTo(api: FeishuApiName): RecordedCall[];
  clearCalls(): void;
  inject(fault: FaultInjection): InjectedFault;
  setLatency(ms: number): void;
  /** Clears calls, faults, latency, messages, cards, reactions, tokens and the clock offset. */
  reset(): void;
  /** Every token issued so far stops working (99991663); new ones can be fetched. */
  invalidateTokens(): void;
  /** Tokens issued so far, oldest first. */
  issuedTokens(): string[];
  /** Moves the fake's clock forward (token expiry, streaming timeout, uuid window). */
  advanceClock(ms: number): void;
  now(): number;
  /** Messages, oldest first; optionally only one chat/thread. */
  messages(filter?: { chatId?: string; threadId?: string; fromBot?: boolean }): FakeMessage[];
  message(messageId: string): FakeMessage | undefined;
  /** Messages whose parent is `messageId` (the replies under it), oldest first. */
  repliesTo(messageId: string, options?: { fromBot?: boolean }): FakeMessage[];
  /** The text a user sees for the message now (see `renderVisibleText`). */
  visibleText(messageId: string): string;
  cardState(cardId: string): CardState | undefined;
  /** The card state behind an interactive message that references a CardKit card. */
  cardForMessage(messageId: string): CardState | undefined;
  cards(): CardState[];
  reactions(messageId?: string): FakeReaction[];
  rateLimitViolations(): RateLimitViolation[];
  /** Adds a message as if someone had sent it earlier (chat history for `im.message.list`). */
  seedMessage(options: SeedMessageOptions): FakeMessage;
  /** Stores the user message of an `im.message.receive_v1` event so the bot can reply to it. */
  ingestMessageEvent(event: unknown): FakeMessage;
  /** The chat id the fake uses for the bot's direct chat with a user. */
  p2pChatIdFor(openId: string): string;
  /** Resolves with the probe's first truthy result; re-checked after every call and every 25 ms. */
  waitFor<T>(probe: () => T | undefined | null | false, options?: WaitForOptions): Promise<T>;
  close(): Promise<void>;
}

// ───────────────────────────── helpers ─────────────────────────────

const TEXT_LIMIT_BYTES = 150 * 1024;
const CARD_LIMIT_BYTES = 30 * 1024;
const ELEMENT_CONTENT_MAX_CHARS = 100_000;
const EDIT_LIMIT = 20;
const HISTORY_LIMIT = 1_000;
const TOKEN_REUSE_MIN_REMAINING_MS = 30 * 60 * 1000;

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** The chat id the fake uses for a user's direct chat with the bot (deterministic). */
export function p2pChatIdFor(openId: string): string {
  return `oc_${createHash('sha256').update(`p2p:${openId}`).digest('hex').slice(0, 32)}`;
}

function numericId(): string {
  // CardKit card ids are 19-digit numbers.
  let id = String(1 + Math.floor(Math.random() * 8));
  for (let index = 0; index < 18; index++) id += String(Math.floor(Math.random() * 10));
  return id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

const TEXT_TAGS = new Set(['markdown', 'plain_text', 'lark_md']);

/** Visible strings of a card (v1 or v2 JSON), header first, in document order. */
export function cardVisibleText(card: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isRecord(node)) return;
    if (typeof node.tag === 'string' && TEXT_TAGS.has(node.tag) && typeof node.content === 'string') {
      if (node.content !== '') parts.push(node.content);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      // config (summary, streaming settings) and behaviours are not rendered text.
      if (key === 'config' || key === 'behaviors' || key === 'value' || key === 'header') continue;
      walk(value);
    }
  };
  if (isRecord(card)) walk(card.header);
  walk(card);
  return parts.join('\n');
}

/** Visible text of `post` content (`{title, content}` or `{zh_cn: {...}}` / `{post: {zh_cn}}`). */
export function postVisibleText(post: unknown): string {
  let body: unknown = post;
  if (isRecord(body) && isRecord(body.post)) body = body.post;
  if (isRecord(body) && !Array.isArray(body.content)) {
    const locale = Object.values(body).find((value) => isRecord(value) && Array.isArray(value.content));
    if (locale) body = locale;
  }
  if (!isRecord(body)) return '';
  const lines: string[] = [];
  if (typeof body.title === 'string' && body.title !== '') lines.push(body.title);
  const paragraphs = Array.isArray(body.content) ? body.content : [];
  for (const paragraph of paragraphs) {
    if (!Array.isArray(paragraph)) continue;
    let line = '';
    for (const element of paragraph) {
      if (!isRecord(element)) continue;
      if (element.tag === 'at') line += `@${String(element.user_name ?? element.user_id ?? '')}`;
      else if (element.tag === 'img') line += '[image]';
      else if (typeof element.text === 'string') line += element.text;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

function textVisibleText(text: string, mentions: FakeMention[]): string {
  let visible = text.replace(/<at\s+[^>]*>([^<]*)<\/at>/g, '@$1');
  for (const mention of mentions) visible = visible.split(mention.key).join(`@${mention.name}`);
  return visible;
}

interface CardEntity {
  cardId: string;
  card: Record<string, unknown>;
  elementIndex: Map<string, Record<string, unknown>>;
  contentHistory: Map<string, string[]>;
  sequence: number;
  sequenceHistory: number[];
  rejectedSequences: number[];
  updateTimes: number[];
  attemptTimes: number[];
  uuids: Set<string>;
  streamingOpenedAt: number | undefined;
  streamingClosedBy: 'settings' | 'timeout' | 'never-opened' | undefined;
  messageId: string | undefined;
  createdAt: number;
}

function indexElements(card: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const index = new Map<string, Record<string, unknown>>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isRecord(node)) return;
    if (typeof node.element_id === 'string') index.set(node.element_id, node);
    for (const value of Object.values(node)) walk(value);
  };
  walk(card.body ?? card.elements);
  walk(card.header);
  return index;
}

/** Replaces (or merges into) the node with `elementId` inside the card tree, in place. */
function replaceElement(
  card: Record<string, unknown>,
  elementId: string,
  next: (current: Record<string, unknown>) => Record<string, unknown>,
): boolean {
  let replaced = false;
  const walk = (node: unknown): void => {
    if (replaced) return;
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        const item: unknown = node[index];
        if (isRecord(item) && item.element_id === elementId) {
          node[index] = next(item);
          replaced = true;
          return;
        }
        walk(item);
      }
      return;
    }
    if (!isRecord(node)) return;
    for (const value of Object.values(node)) walk(value);
  };
  walk(card);
  return replaced;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface RouteContext {
  params: string[];
  query: Record<string, string>;
  body: Record<string, unknown>;
}

interface Route {
  method: string;
  pattern: RegExp;
  api: FeishuApiName;
  auth: boolean;
  handle: (context: RouteContext) => Reply;
}

interface ActiveFault {
  fault: FaultInjection;
  hits: number;
  remaining: number;
}

interface IssuedToken {
  token: string;
  expiresAt: number;
  valid: boolean;
}

// ───────────────────────────── the fake ─────────────────────────────

export async function startFakeFeishu(options: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  const {
    appId = `cli_${hex(8)}`,
    appSecret = hex(16),
    botOpenId = `ou_${hex(16)}`,
    botName = 'Test Bot',
    tenantKey = hex(8),
    tokenExpireSeconds = 7200,
    authErrorStatus = 400,
    cardUpdateRateLimit = { perSecond: 10, reject: true },
    streamingTimeoutMs = 10 * 60 * 1000,
    uuidWindowMs = 60 * 60 * 1000,
    maxRecordedCalls = 10_000,
    maxStoredMessages = 50_000,
    chatSendRateLimit = false,
    latencyMs: initialLatencyMs = 0,
    clock = Date.now,
  } = options;

  let clockOffset = 0;
  let latencyMs = initialLatencyMs;
  let calls: RecordedCall[] = [];
  let faults: ActiveFault[] = [];
  let tokens: IssuedToken[] = [];
  const messages = new Map<string, FakeMessage>();
  const chats = new Map<string, 'p2p' | 'group'>();
  const uuidIndex = new Map<string, { messageId: string; at: number }>();
  const cards = new Map<string, CardEntity>();
  const reactions = new Map<string, FakeReaction>();
  const threadRoots = new Map<string, string>();
  const chatSendTimes = new Map<string, number[]>();
  let violations: RateLimitViolation[] = [];
  const listeners = new Set<() => void>();

  const now = (): number => clock() + clockOffset;
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };

  const ok = (data: unknown): Reply => ({ status: 200, body: { code: 0, msg: 'success', data } });
  const fail = (code: number, msg: string, status = 400): Reply => ({
    status,
    body: { code, msg, error: { log_id: hex(16), troubleshooter: `fake-feishu: ${msg}` } },
  });

  // ── messages ──

  function storeMessage(message: FakeMessage): FakeMessage {
    messages.set(message.messageId, message);
    if (!chats.has(message.chatId)) chats.set(message.chatId, message.chatType);
    if (message.threadId && !threadRoots.has(message.threadId)) {
      threadRoots.set(message.threadId, message.rootId ?? message.messageId);
    }
    if (messages.size > maxStoredMessages) {
      const oldest = messages.keys().next().value;
      if (oldest !== undefined) messages.delete(oldest);
    }
    return message;
  }

  function newMessage(fields: Partial<FakeMessage> & Pick<FakeMessage, 'chatId' | 'msgType' | 'content'>): FakeMessage {
    const at = fields.createTime ?? now();
    return {
      messageId: fields.messageId ?? `om_${hex(16)}`,
      chatId: fields.chatId,
      chatType: fields.chatType ?? chats.get(fields.chatId) ?? 'group',
      rootId: fields.rootId,
      parentId: fields.parentId,
      threadId: fields.threadId,
      msgType: fields.msgType,
      content: fields.content,
      createTime: at,
      updateTime: fields.updateTime ?? at,
      sender: fields.sender ?? { id: appId, idType: 'app_id', senderType: 'app' },
      mentions: fields.mentions ?? [],
      deleted: false,
      updated: false,
      editCount: 0,
      contentHistory: [fields.content],
      cardId: fields.cardId,
      uuid: fields.uuid,
      fromBot: fields.fromBot ?? false,
    };
  }

  function messageItem(message: FakeMessage): Record<string, unknown> {
    return {
      message_id: message.messageId,
      root_id: message.rootId,
      parent_id: message.parentId,
      thread_id: message.threadId,
      msg_type: message.msgType,
      create_time: String(message.createTime),
      update_time: String(message.updateTime),
      deleted: message.deleted,
      updated: message.updated,
      chat_id: message.chatId,
      sender: {
        id: message.sender.id,
        id_type: message.sender.idType,
        sender_type: message.sender.senderType,
        tenant_key: tenantKey,
      },
      body: { content: message.deleted ? JSON.stringify({ text: 'This message was recalled' }) : message.content },
      mentions: message.mentions.map((mention) => ({
        key: mention.key,
        id: mention.openId,
        id_type: 'open_id',
        name: mention.name,
        tenant_key: tenantKey,
      })),
    };
  }

  /** Validates msg_type + content; returns the card id referenced, or an error reply. */
  function validateContent(msgType: unknown, content: unknown): { cardId: string | undefined } | Reply {
    if (typeof msgType !== 'string' || msgType === '')
      return fail(FEISHU_CODES.imInvalidParameter, 'msg_type is required');
    if (typeof content !== 'string' || content === '')
      return fail(FEISHU_CODES.imInvalidParameter, 'content is required');
    const parsed = parseJson(content);
    if (!parsed.ok || !isRecord(parsed.value)) {
      return fail(FEISHU_CODES.imInvalidParameter, 'content is not a valid JSON object string');
    }
    const limit = msgType === 'text' ? TEXT_LIMIT_BYTES : CARD_LIMIT_BYTES;
    if (byteLength(content) > limit) {
      return fail(
        FEISHU_CODES.messageTooLong,
        `The content of the message is too long (${byteLength(content)} > ${limit} bytes)`,
      );
    }
    const value = parsed.value;
    if (msgType === 'text' && typeof value.text !== 'string') {
      return fail(FEISHU_CODES.imInvalidParameter, 'text content needs a "text" string');
    }
    if (msgType === 'interactive') {
      if (value.type === 'card') {
        const data = value.data;
        const cardId = isRecord(data) && typeof data.card_id === 'string' ? data.card_id : undefined;
        const card = cardId ? cards.get(cardId) : undefined;
        if (!cardId || !card) return fail(FEISHU_CODES.cardContentFailed, `card_id ${String(cardId)} does not exist`);
        if (card.messageId) return fail(FEISHU_CODES.cardContentFailed, `card ${cardId} has already been sent`);
        return { cardId };
      }
      if (value.type === 'template') return { cardId: undefined };
      if (!('elements' in value) && !('body' in value) && !('i18n_elements' in value)) {
        return fail(FEISHU_CODES.cardContentFailed, 'card JSON has no elements/body');
      }
    }
    return { cardId: undefined };
  }

  function findByUuid(uuid: unknown): FakeMessage | undefined {
    if (typeof uuid !== 'string' || uuid === '') return undefined;
    const hit = uuidIndex.get(uuid);
    if (!hit || now() - hit.at > uuidWindowMs) return undefined;
    return messages.get(hit.messageId);
  }

  function rememberUuid(uuid: unknown, messageId: string): void {
    if (typeof uuid !== 'string' || uuid === '') return;
    uuidIndex.set(uuid, { messageId, at: now() });
    // Keep the index bounded: drop entries past the window.
    if (uuidIndex.size > 10_000) {
      for (const [key, entry] of uuidIndex) if (now() - entry.at > uuidWindowMs) uuidIndex.delete(key);
    }
  }

  function chatSendLimited(api: FeishuApiName, chatId: string): Reply | undefined {
    if (!chatSendRateLimit) return undefined;
    const at = now();
    const recent = (chatSendTimes.get(chatId) ?? []).filter((time) => at - time < 1000);
    if (recent.length >= chatSendRateLimit.perSecond) {
      chatSendTimes.set(chatId, recent);
      pushBounded(violations, { chatId, api, at }, HISTORY_LIMIT);
      return fail(FEISHU_CODES.messageRateLimited, 'This operation triggers the frequency limit.');
    }
    recent.push(at);
    chatSendTimes.set(chatId, recent);
    return undefined;
  }

  function attachCard(message: FakeMessage): void {
    if (!message.cardId) return;
    const card = cards.get(message.cardId);
    if (card) card.messageId = message.messageId;
  }

  function createMessage({ query, body }: RouteContext): Reply {
    const receiveIdType = query.receive_id_type;
    const receiveId = body.receive_id;
    if (!receiveIdType) return fail(FEISHU_CODES.imInvalidParameter, 'receive_id_type is required');
    if (typeof receiveId !== 'string' || receiveId === '')
      return fail(FEISHU_CODES.imInvalidParameter, 'receive_id is required');
    const existing = findByUuid(body.uuid);
    if (existing) return ok(messageItem(existing));
    const validated = validateContent(body.msg_type, body.content);
    if ('status' in validated) return validated;
    let chatId: string;
    let chatType: 'p2p' | 'group';
    if (receiveIdType === 'chat_id') {
      chatId = receiveId;
      chatType = chats.get(chatId) ?? 'group';
    } else if (['open_id', 'union_id', 'user_id', 'email'].includes(receiveIdType)) {
      chatId = p2pChatIdFor(receiveId);
      chatType = 'p2p';
    } else {
      return fail(FEISHU_CODES.imInvalidParameter, `receive_id_type ${receiveIdType} is not supported`);
    }
    const limited = chatSendLimited('im.message.create', chatId);
    if (limited) return limited;
    return ok(messageItem(storeBotMessage({ chatId, chatType }, body, validated.cardId)));
  }

  /** Stores what the bot sent (create or reply) where `place` says, with its card and uuid. */
  function storeBotMessage(
    place: Pick<FakeMessage, 'chatId' | 'chatType'> & Partial<Pick<FakeMessage, 'rootId' | 'parentId' | 'threadId'>>,
    body: Record<string, unknown>,
    cardId: string | undefined,
  ): FakeMessage {
    const message = storeMessage(
      newMessage({
        ...place,
        msgType: String(body.msg_type),
        content: String(body.content),
        cardId,
        uuid: typeof body.uuid === 'string' ? body.uuid : undefined,
        fromBot: true,
      }),
    );
    attachCard(message);
    rememberUuid(body.uuid, message.messageId);
    return message;
  }

  function lookupTarget(messageId: string | undefined): FakeMessage | Reply {
    const target = messageId ? messages.get(messageId) : undefined;
    if (!target) {
      return fail(
        FEISHU_CODES.imInvalidParameter,
        `message_id ${String(messageId)} not found (fake Feishu: build events with buildMessageEvent({ fake }) or seed with fake.seedMessage)`,
      );
    }
    if (target.deleted) return fail(FEISHU_CODES.messageRecalled, 'The message was recalled');
    return target;
  }

  function replyMessage({ params, body }: RouteContext): Reply {
    const target = lookupTarget(params[0]);
    if ('status' in target) return target;
    const existing = findByUuid(body.uuid);
    if (existing) return ok(messageItem(existing));
    const validated = validateContent(body.msg_type, body.content);
    if ('status' in validated) return validated;
    const limited = chatSendLimited('im.message.reply', target.chatId);
    if (limited) return limited;
    const rootId = target.rootId ?? target.messageId;
    let threadId = target.threadId;
    if (!threadId && body.reply_in_thread === true) {
      threadId = `omt_${hex(8)}`;
      // The root becomes the thread's first message.
      const root = messages.get(rootId);
      if (root) root.threadId = threadId;
      if (target.messageId !== rootId) target.threadId = threadId;
      threadRoots.set(threadId, rootId);
    }
    const place = { chatId: target.chatId, chatType: target.chatType, rootId, parentId: target.messageId, threadId };
    return ok(messageItem(storeBotMessage(place, body, validated.cardId)));
  }

  function editMessage(message: FakeMessage, content: string): void {
    message.content = content;
    message.updated = true;
    message.editCount++;
    message.updateTime = now();
    pushBounded(message.contentHistory, content, HISTORY_LIMIT);
  }

  function patchMessage({ params, body }: RouteContext): Reply {
    const target = lookupTarget(params[0]);
    if ('status' in target) return target;
    if (target.msgType !== 'interactive')
      return fail(FEISHU_CODES.imInvalidParameter, 'only card messages can be patched');
    if (!target.fromBot) return fail(FEISHU_CODES.imInvalidParameter, 'the bot can only patch its own messages');
    const validated = validateContent('interactive', body.content);
    if ('status' in validated) return validated;
    if (validated.cardId)
      return fail(FEISHU_CODES.imInvalidParameter, 'patch takes card JSON, not a card_id reference');
    editMessage(target, String(body.content));
    target.cardId = undefined;
    return ok({});
  }

  function updateMessage({ params, body }: RouteContext): Reply {
    const target = lookupTarget(params[0]);
    if ('status' in target) return target;
    if (!target.fromBot) return fail(FEISHU_CODES.imInvalidParameter, 'the bot can only edit its own messages');
    if (target.msgType !== 'text' && target.msgType !== 'post') {
      return fail(FEISHU_CODES.imInvalidParameter, 'only text and post messages can be edited');
    }
    if (body.msg_type !== 'text' && body.msg_type !== 'post') {
      return fail(FEISHU_CODES.imInvalidParameter, 'msg_type must be text or post');
    }
    if (target.editCount >= EDIT_LIMIT)
      return fail(FEISHU_CODES.editLimitReached, 'The message has reached the edit limit');
    const validated = validateContent(body.msg_type, body.content);
    if ('status' in validated) return validated;
    target.msgType = String(body.msg_type);
    editMessage(target, String(body.content));
    return ok(messageItem(target));
  }

  function deleteMessage({ params }: RouteContext): Reply {
    const target = lookupTarget(params[0]);
    if ('status' in target) return target;
    target.deleted = true;
    target.updateTime = now();
    return ok({});
  }

  function getMessage({ params }: RouteContext): Reply {
    const target = params[0] ? messages.get(params[0]) : undefined;
    if (!target) return fail(FEISHU_CODES.imInvalidParameter, `message_id ${String(params[0])} not found`);
    return ok({ items: [messageItem(target)] });
  }

  function listMessages({ query }: RouteContext): Reply {
    const containerType = query.container_id_type;
    const containerId = query.container_id;
    if (containerType !== 'chat' && containerType !== 'thread') {
      return fail(FEISHU_CODES.imInvalidParameter, 'container_id_type must be chat or thread');
    }
    if (!containerId) return fail(FEISHU_CODES.imInvalidParameter, 'container_id is required');
    const pageSize = query.page_size === undefined ? 20 : Number(query.page_size);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) {
      return fail(FEISHU_CODES.imInvalidParameter, 'page_size must be an integer from 1 to 50');
    }
    const sortType = query.sort_type ?? 'ByCreateTimeAsc';
    if (sortType !== 'ByCreateTimeAsc' && sortType !== 'ByCreateTimeDesc') {
      return fail(FEISHU_CODES.imInvalidParameter, 'sort_type must be ByCreateTimeAsc or ByCreateTimeDesc');
    }
    let items = [...messages.values()].filter((message) => {
      if (containerType === 'thread') return message.threadId === containerId;
      if (message.chatId !== containerId) return false;
      // The chat stream shows a thread's root but not the replies inside the thread.
      return !message.threadId || threadRoots.get(message.threadId) === message.messageId;
    });
    if (containerType === 'chat') {
      const start = query.start_time ? Number(query.start_time) * 1000 : undefined;
      const end = query.end_time ? Number(query.end_time) * 1000 : undefined;
      items = items.filter(
        (message) =>
          (start === undefined || message.createTime >= start) && (end === undefined || message.createTime <= end),
      );
    }
    const position = new Map([...messages.keys()].map((messageId, index) => [messageId, index]));
    items.sort(
      (a, b) => a.createTime - b.createTime || (position.get(a.messageId) ?? 0) - (position.get(b.messageId) ?? 0),
    );
    if (sortType === 'ByCreateTimeDesc') items.reverse();
    let offset = 0;
    if (query.page_token) {
      const decoded = parseJson(Buffer.from(query.page_token, 'base64url').toString('utf8'));
      const token = decoded.ok && isRecord(decoded.value) ? decoded.value : undefined;
      if (!token || typeof token.offset !== 'number' || token.container !== `${containerType}:${containerId}`) {
        return fail(FEISHU_CODES.imInvalidParameter, 'page_token is invalid');
      }
      offset = token.offset;
    }
    const page = items.slice(offset, offset + pageSize);
    const hasMore = offset + pageSize < items.length;
    const pageToken = hasMore
      ? Buffer.from(
          JSON.stringify({ offset: offset + pageSize, container: `${containerType}:${containerId}` }),
        ).toString('base64url')
      : undefined;
    return ok({ has_more: hasMore, page_token: pageToken, items: page.map(messageItem) });
  }

  // ── reactions ──

  function reactionItem(reaction: FakeReaction): Record<string, unknown> {
    return {
      reaction_id: reaction.reactionId,
      operator: { operator_id: reaction.operatorId, operator_type: reaction.operatorType },
      action_time: String(reaction.actionTime),
      reaction_type: { emoji_type: reaction.emojiType },
    };
  }

  function createReaction({ params, body }: RouteContext): Reply {
    const target = lookupTarget(params[0]);
    if ('status' in target) return target;
    const reactionType = body.reaction_type;
    const emojiType = isRecord(reactionType) ? reactionType.emoji_type : undefined;
    if (typeof emojiType !== 'string' || emojiType === '') {
      return fail(FEISHU_CODES.imInvalidParameter, 'reaction_type.emoji_type is required');
    }
    const reaction: FakeReaction = {
      reactionId: hex(16),
      messageId: target.messageId,
      emojiType,
      operatorId: appId,
      operatorType: 'app',
      actionTime: now(),
    };
    reactions.set(reaction.reactionId, reaction);
    return ok(reactionItem(reaction));
  }

  function deleteReaction({ params }: RouteContext): Reply {
    const reaction = params[1] ? reactions.get(params[1]) : undefined;
    if (!reaction || reaction.messageId !== params[0]) {
      return fail(FEISHU_CODES.imInvalidParameter, `reaction ${String(params[1])} not found on ${String(params[0])}`);
    }
    reactions.delete(reaction.reactionId);
    return ok(reactionItem(reaction));
  }

  function listReactions({ params, query }: RouteContext): Reply {
    const items = [...reactions.values()].filter(
      (reaction) =>
        reaction.messageId === params[0] && (!query.reaction_type || reaction.emojiType === query.reaction_type),
    );
    return ok({ items: items.map(reactionItem), has_more: false, page_token: '' });
  }

  // ── CardKit ──

  function parseCardJson(data: unknown): { card: Record<string, unknown> } | Reply {
    if (typeof data !== 'string' || data === '') return fail(FEISHU_CODES.invalidParameter, 'card data is required');
    if (byteLength(data) > CARD_LIMIT_BYTES) return fail(FEISHU_CODES.cardTooLarge, 'Card content exceeds limit.');
    const parsed = parseJson(data);
    if (!parsed.ok || !isRecord(parsed.value))
      return fail(FEISHU_CODES.cardJsonInvalid, 'Failed to generate card content');
    if (parsed.value.schema !== '2.0') {
      return fail(FEISHU_CODES.cardJsonInvalid, 'CardKit only supports card JSON schema 2.0');
    }
    return { card: parsed.value };
  }

  function streamingModeOf(card: Record<string, unknown>): boolean {
    return isRecord(card.config) && card.config.streaming_mode === true;
  }

  function isStreaming(entity: CardEntity): boolean {
    if (entity.streamingOpenedAt === undefined) return false;
    if (now() - entity.streamingOpenedAt >= streamingTimeoutMs) {
      entity.streamingOpenedAt = undefined;
      entity.streamingClosedBy = 'timeout';
      return false;
    }
    return true;
  }

  function setCard(entity: CardEntity, card: Record<string, unknown>, closedBy: 'settings' | 'never-opened'): void {
    entity.card = card;
    entity.elementIndex = indexElements(card);
    applyStreamingMode(entity, streamingModeOf(card), closedBy);
  }

  function applyStreamingMode(entity: CardEntity, on: boolean, closedBy: 'settings' | 'never-opened'): void {
    if (on) {
      // Turning it on (again) restarts the timeout; leaving it on keeps the original start.
      if (entity.streamingOpenedAt === undefined || !isStreaming(entity)) entity.streamingOpenedAt = now();
      entity.streamingClosedBy = undefined;
    } else {
      if (entity.streamingOpenedAt !== undefined) entity.streamingClosedBy = 'settings';
      else entity.streamingClosedBy ??= closedBy;
      entity.streamingOpenedAt = undefined;
    }
  }

  function createCard({ body }: RouteContext): Reply {
    if (body.type !== 'card_json') return fail(FEISHU_CODES.invalidParameter, 'type must be card_json');
    const parsedCard = parseCardJson(body.data);
    if ('status' in parsedCard) return parsedCard;
    const { card } = parsedCard;
    const entity: CardEntity = {
      cardId: numericId(),
      card,
      elementIndex: new Map(),
      contentHistory: new Map(),
      sequence: 0,
      sequenceHistory: [],
      rejectedSequences: [],
      updateTimes: [],
      attemptTimes: [],
      uuids: new Set(),
      streamingOpenedAt: undefined,
      streamingClosedBy: undefined,
      messageId: undefined,
      createdAt: now(),
    };
    setCard(entity, card, 'never-opened');
    cards.set(entity.cardId, entity);
    return ok({ card_id: entity.cardId });
  }

  /**
   * Common gate of every sequenced CardKit operation: card exists, per-card rate limit,
   * uuid replay, strictly increasing sequence. Returns the entity, or the reply to send.
   */
  function sequenced(
    api: FeishuApiName,
    cardId: string | undefined,
    body: Record<string, unknown>,
  ): { entity: CardEntity; replay: boolean } | Reply {
    const entity = cardId ? cards.get(cardId) : undefined;
    if (!entity) return fail(FEISHU_CODES.cardNotFound, 'The card entity does not exist');
    const at = now();
    if (cardUpdateRateLimit) {
      entity.attemptTimes = entity.attemptTimes.filter((time) => at - time < 1000);
      if (entity.attemptTimes.length >= cardUpdateRateLimit.perSecond) {
        pushBounded(violations, { cardId: entity.cardId, api, at }, HISTORY_LIMIT);
        if (cardUpdateRateLimit.reject) {
          return {
            ...fail(FEISHU_CODES.messageRateLimited, 'request trigger frequency limit', 429),
            headers: { 'x-ogw-ratelimit-limit': String(cardUpdateRateLimit.perSecond), 'x-ogw-ratelimit-reset': '1' },
          };
        }
      }
      entity.attemptTimes.push(at);
    }
    if (typeof body.uuid === 'string' && body.uuid !== '' && entity.uuids.has(body.uuid)) {
      return { entity, replay: true };
    }
    const sequence = body.sequence;
    if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 1 || sequence > 2_147_483_647) {
      return fail(FEISHU_CODES.invalidParameter, 'sequence must be a positive int32');
    }
    if (sequence <= entity.sequence) {
      pushBounded(entity.rejectedSequences, sequence, HISTORY_LIMIT);
      return fail(
        FEISHU_CODES.sequenceNotIncreasing,
        `The sequence number for operating on the card did not increment consecutively (got ${sequence}, last ${entity.sequence})`,
      );
    }
    return { entity, replay: false };
  }

  function accept(entity: CardEntity, body: Record<string, unknown>): void {
    entity.sequence = Number(body.sequence);
    pushBounded(entity.sequenceHistory, entity.sequence, HISTORY_LIMIT);
    pushBounded(entity.updateTimes, now(), HISTORY_LIMIT);
    if (typeof body.uuid === 'string' && body.uuid !== '') entity.uuids.add(body.uuid);
  }

  function updateElementContent({ params, body }: RouteContext): Reply {
    const gate = sequenced('cardkit.cardElement.content', params[0], body);
    if ('status' in gate) return gate;
    const { entity, replay } = gate;
    if (replay) return ok({});
    if (!isStreaming(entity)) {
      return entity.streamingClosedBy === 'timeout'
        ? fail(FEISHU_CODES.streamingTimeout, 'Card streaming timeout')
        : fail(FEISHU_CODES.streamingClosed, 'Card streaming closed');
    }
    const elementId = params[1] ?? '';
    const element = entity.elementIndex.get(elementId);
    if (!element)
      return fail(FEISHU_CODES.invalidParameter, `element_id ${elementId} not found in card ${entity.cardId}`);
    if (element.tag !== 'markdown' && element.tag !== 'plain_text') {
      return fail(FEISHU_CODES.onlyUpdateText, 'Only update text');
    }
    const content = body.content;
    if (typeof content !== 'string' || content.length < 1 || content.length > ELEMENT_CONTENT_MAX_CHARS) {
      return fail(FEISHU_CODES.invalidParameter, `content must be 1 to ${ELEMENT_CONTENT_MAX_CHARS} characters`);
    }
    accept(entity, body);
    element.content = content;
    const history = entity.contentHistory.get(elementId) ?? [];
    pushBounded(history, content, HISTORY_LIMIT);
    entity.contentHistory.set(elementId, history);
    return ok({});
  }

  function updateCardSettings({ params, body }: RouteContext): Reply {
    const gate = sequenced('cardkit.card.settings', params[0], body);
    if ('status' in gate) return gate;
    const { entity, replay } = gate;
    if (replay) return ok({});
    const parsed = typeof body.settings === 'string' ? parseJson(body.settings) : { ok: false as const };
    if (!parsed.ok || !isRecord(parsed.value))
      return fail(FEISHU_CODES.invalidParameter, 'settings must be a JSON string');
    accept(entity, body);
    const settings = parsed.value;
    if (isRecord(settings.config)) {
      const config = isRecord(entity.card.config) ? entity.card.config : {};
      entity.card.config = { ...config, ...settings.config };
      if ('streaming_mode' in settings.config)
        applyStreamingMode(entity, settings.config.streaming_mode === true, 'settings');
    }
    if (isRecord(settings.card_link)) entity.card.card_link = settings.card_link;
    return ok({});
  }

  function updateCard({ params, body }: RouteContext): Reply {
    const gate = sequenced('cardkit.card.update', params[0], body);
    if ('status' in gate) return gate;
    const { entity, replay } = gate;
    if (replay) return ok({});
    const cardField = body.card;
    if (!isRecord(cardField) || cardField.type !== 'card_json') {
      return fail(FEISHU_CODES.invalidParameter, 'card.type must be card_json');
    }
    const parsedCard = parseCardJson(cardField.data);
    if ('status' in parsedCard) return parsedCard;
    accept(entity, body);
    setCard(entity, parsedCard.card, 'settings');
    return ok({});
  }

  function replaceCardElement(api: FeishuApiName, merge: boolean) {
    return ({ params, body }: RouteContext): Reply => {
      const gate = sequenced(api, params[0], body);
      if ('status' in gate) return gate;
      const { entity, replay } = gate;
      if (replay) return ok({});
      const elementId = params[1] ?? '';
      if (!entity.elementIndex.has(elementId)) {
        return fail(FEISHU_CODES.invalidParameter, `element_id ${elementId} not found in card ${entity.cardId}`);
      }
      const source = merge ? body.partial_element : body.element;
      const parsed = typeof source === 'string' ? parseJson(source) : { ok: false as const };
      if (!parsed.ok || !isRecord(parsed.value)) {
        return fail(FEISHU_CODES.invalidParameter, `${merge ? 'partial_element' : 'element'} must be a JSON string`);
      }
      const replacement = parsed.value;
      accept(entity, body);
      replaceElement(entity.card, elementId, (current) =>
        merge ? { ...current, ...replacement, element_id: elementId } : { element_id: elementId, ...replacement },
      );
      entity.elementIndex = indexElements(entity.card);
      return ok({});
    };
  }

  // ── auth ──

  function issueToken({ body }: RouteContext): Reply {
    if (body.app_id !== appId || body.app_secret !== appSecret) {
      return fail(FEISHU_CODES.appSecretInvalid, 'app secret invalid');
    }
    const at = now();
    const reusable = tokens.find((token) => token.valid && token.expiresAt - at > TOKEN_REUSE_MIN_REMAINING_MS);
    if (reusable) {
      return {
        status: 200,
        body: {
          code: 0,
          msg: 'ok',
          tenant_access_token: reusable.token,
          expire: Math.floor((reusable.expiresAt - at) / 1000),
        },
      };
    }
    const token: IssuedToken = { token: `t-${hex(20)}`, expiresAt: at + tokenExpireSeconds * 1000, valid: true };
    pushBounded(tokens, token, HISTORY_LIMIT);
    return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token.token, expire: tokenExpireSeconds } };
  }

  function checkAuth(authorization: string | undefined): Reply | undefined {
    if (!authorization) {
      return fail(
        FEISHU_CODES.missingAccessToken,
        'Missing access token for authorization. Please make a request with token attached.',
        authErrorStatus,
      );
    }
    const value = authorization.replace(/^Bearer\s+/i, '');
    const token = tokens.find((candidate) => candidate.token === value);
    if (!token?.valid || token.expiresAt <= now()) {
      return fail(
        FEISHU_CODES.invalidAccessToken,
        'Invalid access token for authorization. Please make a request with token attached.',
        authErrorStatus,
      );
    }
    return undefined;
  }

  function botInfo(): Reply {
    return {
      status: 200,
      body: {
        code: 0,
        msg: 'ok',
        bot: { activate_status: 2, app_name: botName, avatar_url: '', ip_white_list: [], open_id: botOpenId },
      },
    };
  }

  // ── routing ──

  const id = '([^/]+)';
  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/open-apis\/auth\/v3\/tenant_access_token\/internal$/,
      api: 'auth.tenantAccessToken',
      auth: false,
      handle: issueToken,
    },
    { method: 'GET', pattern: /^\/open-apis\/bot\/v3\/info$/, api: 'bot.info', auth: true, handle: botInfo },
    {
      method: 'POST',
      pattern: /^\/open-apis\/im\/v1\/messages$/,
      api: 'im.message.create',
      auth: true,
      handle: createMessage,
    },
    {
      method: 'GET',
      pattern: /^\/open-apis\/im\/v1\/messages$/,
      api: 'im.message.list',
      auth: true,
      handle: listMessages,
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}/reply$`),
      api: 'im.message.reply',
      auth: true,
      handle: replyMessage,
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}/reactions$`),
      api: 'im.messageReaction.create',
      auth: true,
      handle: createReaction,
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}/reactions$`),
      api: 'im.messageReaction.list',
      auth: true,
      handle: listReactions,
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}/reactions/${id}$`),
      api: 'im.messageReaction.delete',
      auth: true,
      handle: deleteReaction,
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}$`),
      api: 'im.message.patch',
      auth: true,
      handle: patchMessage,
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}$`),
      api: 'im.message.update',
      auth: true,
      handle: updateMessage,
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}$`),
      api: 'im.message.delete',
      auth: true,
      handle: deleteMessage,
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/open-apis/im/v1/messages/${id}$`),
      api: 'im.message.get',
      auth: true,
      handle: getMessage,
    },
    {
      method: 'POST',
      pattern: /^\/open-apis\/cardkit\/v1\/cards$/,
      api: 'cardkit.card.create',
      auth: true,
      handle: createCard,
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/open-apis/cardkit/v1/cards/${id}/settings$`),
      api: 'cardkit.card.settings',
      auth: true,
      handle: updateCardSettings,
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/open-apis/cardkit/v1/cards/${id}/elements/${id}/content$`),
      api: 'cardkit.cardElement.content',
      auth: true,
      handle: updateElementContent,
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/open-apis/cardkit/v1/cards/${id}/elements/${id}$`),
      api: 'cardkit.cardElement.update',
      auth: true,
      handle: replaceCardElement('cardkit.cardElement.update', false),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/open-apis/cardkit/v1/cards/${id}/elements/${id}$`),
      api: 'cardkit.cardElement.patch',
      auth: true,
      handle: replaceCardElement('cardkit.cardElement.patch', true),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/open-apis/cardkit/v1/cards/${id}$`),
      api: 'cardkit.card.update',
      auth: true,
      handle: updateCard,
    },
  ];

  function takeFault(
    api: FeishuApiName,
    request: { method: string; path: string; query: Record<string, string>; body: unknown },
  ): FaultInjection | undefined {
    for (const active of faults) {
      if (active.remaining <= 0) continue;
      const { fault } = active;
      if (fault.api === '*' ? api === 'auth.tenantAccessToken' : fault.api !== api) continue;
      if (fault.match && !fault.match(request)) continue;
      active.remaining--;
      active.hits++;
      return fault;
    }
    return undefined;
  }

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all('*', async (c) => {
    const url = new URL(c.req.url);
    const method = c.req.method.toUpperCase();
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams.entries());
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    const rawBody = method === 'GET' || method === 'HEAD' ? '' : await c.req.text();
    const parsedBody = rawBody === '' ? { ok: true as const, value: undefined } : parseJson(rawBody);
    const body: unknown = parsedBody.ok ? parsedBody.value : undefined;
    const arrivedAt = now();

    let route: Route | undefined;
    let params: string[] = [];
    for (const candidate of routes) {
      if (candidate.method !== method) continue;
      const match = candidate.pattern.exec(path);
      if (match) {
        route = candidate;
        params = match.slice(1).map((part) => decodeURIComponent(part));
        break;
      }
    }
    const api: FeishuApiName = route?.api ?? 'unknown';
    const call: RecordedCall = {
      method,
      path,
      api,
      query,
      body,
      headers,
      at: arrivedAt,
      status: 0,
      code: undefined,
      injected: false,
    };
    pushBounded(calls, call, maxRecordedCalls);

    const fault = takeFault(api, { method, path, query, body });
    const delay = latencyMs + (fault?.latencyMs ?? 0);
    if (delay > 0) await sleep(delay);

    let reply: Reply;
    if (fault?.dropConnection) {
      call.injected = true;
      call.status = 0;
      c.env.incoming.socket.destroy();
      notify();
      return new Response(null, { status: 500 });
    }
    if (fault && (fault.status !== undefined || fault.code !== undefined)) {
      call.injected = true;
      const status = fault.status ?? 400;
      const code = fault.code ?? (status === 429 ? FEISHU_CODES.appRateLimited : undefined);
      reply =
        code === undefined
          ? { status, body: fault.msg ?? `fake-feishu injected HTTP ${status}`, headers: fault.headers }
          : {
              ...fail(
                code,
                fault.msg ?? (status === 429 ? 'request trigger frequency limit' : 'injected failure'),
                status,
              ),
              headers: fault.headers,
            };
    } else if (!route) {
      reply = fail(404, `fake-feishu: no route for ${method} ${path}`, 404);
    } else if (!parsedBody.ok) {
      reply = fail(FEISHU_CODES.badRequest, 'Bad Request: body is not valid JSON');
    } else {
      reply =
        (route.auth ? checkAuth(headers.authorization) : undefined) ??
        route.handle({
          params,
          query,
          body: isRecord(body) ? body : {},
        });
      if (fault?.headers) reply = { ...reply, headers: { ...reply.headers, ...fault.headers } };
    }
    call.status = reply.status;
    call.code = isRecord(reply.body) && typeof reply.body.code === 'number' ? reply.body.code : undefined;
    notify();
    const responseHeaders: Record<string, string> = { 'x-tt-logid': hex(16), ...reply.headers };
    if (typeof reply.body === 'string') {
      return new Response(reply.body, {
        status: reply.status,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...responseHeaders },
      });
    }
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...responseHeaders },
    });
  });

  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const created = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server: created, port: info.port }),
    );
    created.once('error', reject);
  });

  // ── "what the user sees" ──

  function cardStateOf(entity: CardEntity): CardState {
    const streaming = isStreaming(entity);
    const elements: Record<string, CardElementState> = {};
    for (const [elementId, node] of entity.elementIndex) {
      elements[elementId] = {
        tag: String(node.tag),
        content: typeof node.content === 'string' ? node.content : undefined,
        contentHistory: [...(entity.contentHistory.get(elementId) ?? [])],
      };
    }
    return {
      cardId: entity.cardId,
      streaming,
      streamingClosedBy: streaming ? undefined : entity.streamingClosedBy,
      card: structuredClone(entity.card),
      elements,
      sequence: entity.sequence,
      sequenceHistory: [...entity.sequenceHistory],
      rejectedSequences: [...entity.rejectedSequences],
      updateTimes: [...entity.updateTimes],
      messageId: entity.messageId,
      createdAt: entity.createdAt,
    };
  }

  function visibleText(messageId: string): string {
    const message = messages.get(messageId);
    if (!message) throw new Error(`fake-feishu: no message ${messageId}`);
    if (message.deleted) return '';
    const parsed = parseJson(message.content);
    const value = parsed.ok ? parsed.value : undefined;
    if (message.msgType === 'text') {
      return textVisibleText(isRecord(value) && typeof value.text === 'string' ? value.text : '', message.mentions);
    }
    if (message.msgType === 'post') return postVisibleText(value);
    if (message.msgType === 'interactive') {
      if (message.cardId) {
        const entity = cards.get(message.cardId);
        return entity ? cardVisibleText(entity.card) : '';
      }
      return cardVisibleText(value);
    }
    return `[${message.msgType}]`;
  }

  function ingestMessageEvent(event: unknown): FakeMessage {
    const eventBody = isRecord(event) && isRecord(event.event) ? event.event : undefined;
    const message = eventBody && isRecord(eventBody.message) ? eventBody.message : undefined;
    const sender = eventBody && isRecord(eventBody.sender) ? eventBody.sender : undefined;
    if (!message || typeof message.message_id !== 'string' || typeof message.chat_id !== 'string') {
      throw new Error('fake-feishu: ingestMessageEvent needs a v2 im.message.receive_v1 event');
    }
    const existing = messages.get(message.message_id);
    if (existing) return existing;
    const senderId = sender && isRecord(sender.sender_id) ? sender.sender_id : {};
    const mentions: FakeMention[] = (Array.isArray(message.mentions) ? message.mentions : [])
      .filter(isRecord)
      .map((mention) => ({
        key: String(mention.key),
        openId: isRecord(mention.id) ? String(mention.id.open_id) : '',
        name: String(mention.name),
      }));
    const stringOrUndefined = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    const senderType = sender?.sender_type === 'app' ? 'app' : 'user';
    return seedMessage({
      messageId: message.message_id,
      chatId: message.chat_id,
      chatType: message.chat_type === 'p2p' ? 'p2p' : 'group',
      rootId: stringOrUndefined(message.root_id),
      parentId: stringOrUndefined(message.parent_id),
      threadId: stringOrUndefined(message.thread_id),
      msgType: typeof message.message_type === 'string' ? message.message_type : 'text',
      content: typeof message.content === 'string' ? message.content : '{}',
      createTime: Number(message.create_time) || now(),
      senderOpenId: String(senderId.open_id ?? ''),
      senderType,
      mentions,
    });
  }

  function seedMessage(seed: SeedMessageOptions): FakeMessage {
    const senderType = seed.senderType ?? 'user';
    const sender: FakeMessageSender =
      senderType === 'app'
        ? { id: seed.senderOpenId ?? appId, idType: 'app_id', senderType: 'app' }
        : { id: seed.senderOpenId ?? `ou_${hex(16)}`, idType: 'open_id', senderType: 'user' };
    const rootId = seed.rootId ?? (seed.threadId ? threadRoots.get(seed.threadId) : undefined);
    const message = newMessage({
      messageId: seed.messageId,
      chatId: seed.chatId,
      chatType: seed.chatType,
      rootId: rootId && rootId !== seed.messageId ? rootId : undefined,
      parentId: seed.parentId ?? (rootId && rootId !== seed.messageId ? rootId : undefined),
      threadId: seed.threadId,
      msgType: seed.msgType ?? 'text',
      content: seed.content ?? JSON.stringify({ text: seed.text ?? '' }),
      createTime: seed.createTime,
      sender,
      mentions: seed.mentions,
      fromBot: false,
    });
    if (seed.chatType) chats.set(seed.chatId, seed.chatType);
    storeMessage(message);
    notify();
    return message;
  }

  function waitFor<T>(probe: () => T | undefined | null | false, waitOptions: WaitForOptions = {}): Promise<T> {
    const { timeoutMs = 5000, description = 'condition' } = waitOptions;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const check = () => {
        if (settled) return;
        let value: T | undefined | null | false;
        try {
          value = probe();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (value) {
          finish();
          resolve(value);
        }
      };
      const interval = setInterval(check, 25);
      const timer = setTimeout(() => {
        finish();
        const recent = calls
          .slice(-10)
          .map((call) => `${call.method} ${call.path} → ${call.status}/${String(call.code)}`)
          .join('\n  ');
        reject(
          new Error(
            `fake-feishu: timed out after ${timeoutMs} ms waiting for ${description}. Last calls:\n  ${recent}`,
          ),
        );
      }, timeoutMs);
      function finish() {
        settled = true;
        clearInterval(interval);
        clearTimeout(timer);
        listeners.delete(check);
      }
      listeners.add(check);
      check();
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    appId,
    appSecret,
    botOpenId,
    botName,
    tenantKey,
    env: () => ({ FEISHU_APP_ID: appId, FEISHU_APP_SECRET: appSecret, FEISHU_DOMAIN: `http://127.0.0.1:${port}` }),
    get calls() {
      return calls;
    },
    callsTo: (api) => calls.filter((call) => call.api === api),
    clearCalls: () => {
      calls = [];
    },
    inject(fault) {
      const active: ActiveFault = { fault, hits: 0, remaining: fault.times ?? 1 };
      faults.push(active);
      return {
        get hits() {
          return active.hits;
        },
        get remaining() {
          return active.remaining;
        },
      };
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      calls = [];
      faults = [];
      tokens = [];
      violations = [];
      latencyMs = initialLatencyMs;
      clockOffset = 0;
      messages.clear();
      chats.clear();
      uuidIndex.clear();
      cards.clear();
      reactions.clear();
      threadRoots.clear();
      chatSendTimes.clear();
    },
    invalidateTokens() {
      for (const token of tokens) token.valid = false;
    },
    issuedTokens: () => tokens.map((token) => token.token),
    advanceClock(ms) {
      clockOffset += ms;
      notify();
    },
    now,
    messages(filter = {}) {
      return [...messages.values()]
        .filter(
          (message) =>
            (filter.chatId === undefined || message.chatId === filter.chatId) &&
            (filter.threadId === undefined || message.threadId === filter.threadId) &&
            (filter.fromBot === undefined || message.fromBot === filter.fromBot),
        )
        .sort((a, b) => a.createTime - b.createTime);
    },
    message: (messageId) => messages.get(messageId),
    repliesTo(messageId, replyOptions = {}) {
      return [...messages.values()].filter(
        (message) =>
          message.parentId === messageId &&
          (replyOptions.fromBot === undefined || message.fromBot === replyOptions.fromBot),
      );
    },
    visibleText,
    cardState(cardId) {
      const entity = cards.get(cardId);
      return entity ? cardStateOf(entity) : undefined;
    },
    cardForMessage(messageId) {
      const cardId = messages.get(messageId)?.cardId;
      const entity = cardId ? cards.get(cardId) : undefined;
      return entity ? cardStateOf(entity) : undefined;
    },
    cards: () => [...cards.values()].map(cardStateOf),
    reactions: (messageId) =>
      [...reactions.values()].filter((reaction) => messageId === undefined || reaction.messageId === messageId),
    rateLimitViolations: () => [...violations],
    seedMessage,
    ingestMessageEvent,
    p2pChatIdFor,
    waitFor,
    close() {
      listeners.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The SDK's axios keeps connections alive; close them so close() returns promptly.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  };
}

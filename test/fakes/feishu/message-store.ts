import { createHash } from 'node:crypto';
import type { FeishuCore } from './core.js';
import { fail, type Reply } from './reply.js';
import { hex, isRecord } from './util.js';

/**
 * The chats, threads and messages of the fake, shared by every area that reads or writes
 * messages (`core.use(messageStore)`): what was sent, seeded or received, in arrival order, and
 * the message item shape the Open API returns for one.
 *
 * @example
 * const store = core.use(messageStore);
 * const target = store.lookupTarget(params.message_id);
 * if (isReply(target)) return target;
 */

declare module './core.js' {
  interface FakeFeishuOptions {
    /** How long a message `uuid` de-duplicates (default 1 hour). */
    uuidWindowMs?: number;
    /** Oldest messages are dropped beyond this (default 50 000). */
    maxStoredMessages?: number;
  }
}

/** IM codes, shared by the message, reaction and card areas. */
export const IM_CODES = {
  /** IM generic parameter error (documented), also used for an unknown message_id. */
  imInvalidParameter: 230001,
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
} as const;

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
  /** Inside a forwarded bundle (`merge_forward`): the bundle it belongs to. */
  upperMessageId: string | undefined;
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
  /** A member of a forwarded bundle: the bundle's (`merge_forward`) message id. */
  upperMessageId?: string;
}

/** The chat id the fake uses for a user's direct chat with the bot (deterministic). */
export function p2pChatIdFor(openId: string): string {
  return `oc_${createHash('sha256').update(`p2p:${openId}`).digest('hex').slice(0, 32)}`;
}

export interface MessageStore {
  /** Every message by id, in arrival order (bounded by `maxStoredMessages`). */
  readonly messages: Map<string, FakeMessage>;
  /** The type of every chat seen. */
  readonly chats: Map<string, 'p2p' | 'group'>;
  /** The root message of every thread. */
  readonly threadRoots: Map<string, string>;
  /** A message with defaults filled in (sent by the bot unless `sender` says otherwise); not stored yet. */
  create(fields: Partial<FakeMessage> & Pick<FakeMessage, 'chatId' | 'msgType' | 'content'>): FakeMessage;
  store(message: FakeMessage): FakeMessage;
  /** The message as the Open API returns it (`items[]` of get/list, `data` of create/reply). */
  item(message: FakeMessage): Record<string, unknown>;
  /** The message a reply/patch/reaction targets, or the error Feishu answers (unknown: 230001, recalled: 230011). */
  lookupTarget(messageId: string | undefined): FakeMessage | Reply;
  /** The message sent with this `uuid` within the de-duplication window. */
  findByUuid(uuid: unknown): FakeMessage | undefined;
  rememberUuid(uuid: unknown, messageId: string): void;
  seed(options: SeedMessageOptions): FakeMessage;
  /** Stores the user message of an `im.message.receive_v1` event (once per message id). */
  ingestEvent(event: unknown): FakeMessage;
}

/** Created once per fake through `core.use(messageStore)`. */
export function messageStore(core: FeishuCore): MessageStore {
  const { uuidWindowMs = 60 * 60 * 1000, maxStoredMessages = 50_000 } = core.options;
  const messages = new Map<string, FakeMessage>();
  const chats = new Map<string, 'p2p' | 'group'>();
  const threadRoots = new Map<string, string>();
  const uuidIndex = new Map<string, { messageId: string; at: number }>();
  core.onReset(() => {
    messages.clear();
    chats.clear();
    threadRoots.clear();
    uuidIndex.clear();
  });

  const store: MessageStore = {
    messages,
    chats,
    threadRoots,
    create(fields) {
      const at = fields.createTime ?? core.now();
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
        sender: fields.sender ?? { id: core.appId, idType: 'app_id', senderType: 'app' },
        mentions: fields.mentions ?? [],
        deleted: false,
        updated: false,
        editCount: 0,
        contentHistory: [fields.content],
        cardId: fields.cardId,
        uuid: fields.uuid,
        fromBot: fields.fromBot ?? false,
        upperMessageId: fields.upperMessageId,
      };
    },
    store(message) {
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
    },
    item(message) {
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
        ...(message.upperMessageId ? { upper_message_id: message.upperMessageId } : {}),
        sender: {
          id: message.sender.id,
          id_type: message.sender.idType,
          sender_type: message.sender.senderType,
          tenant_key: core.tenantKey,
        },
        body: { content: message.deleted ? JSON.stringify({ text: 'This message was recalled' }) : message.content },
        mentions: message.mentions.map((mention) => ({
          key: mention.key,
          id: mention.openId,
          id_type: 'open_id',
          name: mention.name,
          tenant_key: core.tenantKey,
        })),
      };
    },
    lookupTarget(messageId) {
      const target = messageId ? messages.get(messageId) : undefined;
      if (!target) {
        return fail(
          IM_CODES.imInvalidParameter,
          `message_id ${String(messageId)} not found (fake Feishu: build events with buildMessageEvent({ fake }) or seed with fake.seedMessage)`,
        );
      }
      if (target.deleted) return fail(IM_CODES.messageRecalled, 'The message was recalled');
      return target;
    },
    findByUuid(uuid) {
      if (typeof uuid !== 'string' || uuid === '') return undefined;
      const hit = uuidIndex.get(uuid);
      if (!hit || core.now() - hit.at > uuidWindowMs) return undefined;
      return messages.get(hit.messageId);
    },
    rememberUuid(uuid, messageId) {
      if (typeof uuid !== 'string' || uuid === '') return;
      uuidIndex.set(uuid, { messageId, at: core.now() });
      // Keep the index bounded: drop entries past the window.
      if (uuidIndex.size > 10_000) {
        for (const [key, entry] of uuidIndex) if (core.now() - entry.at > uuidWindowMs) uuidIndex.delete(key);
      }
    },
    seed(seed) {
      const senderType = seed.senderType ?? 'user';
      const sender: FakeMessageSender =
        senderType === 'app'
          ? { id: seed.senderOpenId ?? core.appId, idType: 'app_id', senderType: 'app' }
          : { id: seed.senderOpenId ?? `ou_${hex(16)}`, idType: 'open_id', senderType: 'user' };
      const rootId = seed.rootId ?? (seed.threadId ? threadRoots.get(seed.threadId) : undefined);
      const message = store.create({
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
        upperMessageId: seed.upperMessageId,
      });
      if (seed.chatType) chats.set(seed.chatId, seed.chatType);
      store.store(message);
      core.notify();
      return message;
    },
    ingestEvent(event) {
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
      return store.seed({
        messageId: message.message_id,
        chatId: message.chat_id,
        chatType: message.chat_type === 'p2p' ? 'p2p' : 'group',
        rootId: stringOrUndefined(message.root_id),
        parentId: stringOrUndefined(message.parent_id),
        threadId: stringOrUndefined(message.thread_id),
        msgType: typeof message.message_type === 'string' ? message.message_type : 'text',
        content: typeof message.content === 'string' ? message.content : '{}',
        createTime: Number(message.create_time) || core.now(),
        senderOpenId: String(senderId.open_id ?? ''),
        senderType: sender?.sender_type === 'app' ? 'app' : 'user',
        mentions,
      });
    },
  };
  return store;
}

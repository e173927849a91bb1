import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { FakeFeishu } from './fake-feishu.js';
import { p2pChatIdFor } from './fake-feishu.js';
import { hex } from './feishu/util.js';

/**
 * Builds Feishu event callbacks in the exact wire format Feishu uses (v2 `im.message.receive_v1`,
 * `url_verification`, v1 `event_callback`, `card.action.trigger`), encrypts them like Feishu
 * (AES-256-CBC, key = sha256(encryptKey), base64(iv ‖ ciphertext)), signs them like Feishu
 * (hex sha256 of timestamp + nonce + encryptKey + raw body) and delivers them over HTTP or as a
 * `RequestInit` for Hono's `app.request()`.
 *
 * Pass `fake` so ids match the fake Feishu (app id, tenant, bot open_id) and the user's message
 * is stored there, so the bot's `reply` to it works.
 *
 * @example
 * const event = buildMessageEvent({ fake, chatType: 'group', text: 'hello', mentionBot: true });
 * const response = await app.request('/webhook/event', eventRequest(event, { encryptKey }));
 */

// ───────────────────────────── wire types ─────────────────────────────

export interface FeishuUserId {
  open_id: string;
  union_id: string;
  user_id: string;
}

export interface FeishuEventMention {
  key: string;
  id: FeishuUserId;
  name: string;
  tenant_key: string;
}

export interface FeishuEventHeader {
  event_id: string;
  event_type: string;
  /** Epoch ms as a string. */
  create_time: string;
  token: string;
  app_id: string;
  tenant_key: string;
}

export interface FeishuMessageReceiveEvent {
  schema: '2.0';
  header: FeishuEventHeader;
  event: {
    sender: {
      sender_id: FeishuUserId;
      sender_type: 'user' | 'bot' | 'app';
      tenant_key: string;
    };
    message: {
      message_id: string;
      root_id?: string;
      parent_id?: string;
      thread_id?: string;
      create_time: string;
      update_time: string;
      chat_id: string;
      chat_type: 'p2p' | 'group';
      message_type: string;
      /** A JSON string, e.g. `{"text":"@_user_1 hello"}`. */
      content: string;
      mentions?: FeishuEventMention[];
      user_agent?: string;
    };
  };
}

export interface PostElement {
  tag: string;
  text?: string;
  href?: string;
  user_id?: string;
  user_name?: string;
  image_key?: string;
  [key: string]: unknown;
}

/** Post content as a received event carries it (no locale wrapper). */
export interface PostContent {
  title?: string;
  content: PostElement[][];
}

export interface MentionInput {
  /** `@_user_N`; assigned in order when omitted (the bot first when `mentionBot`). */
  key?: string;
  openId: string;
  name: string;
  unionId?: string;
  userId?: string;
}

export interface MessageEventOptions {
  /** Supplies appId, tenantKey, botOpenId/botName, and stores the message in the fake. */
  fake?: FakeFeishu;
  appId?: string;
  tenantKey?: string;
  botOpenId?: string;
  botName?: string;
  /** Default `'group'`. */
  chatType?: 'p2p' | 'group';
  /** Default: `oc_group_default` for groups, the fake's p2p chat of the sender for p2p. */
  chatId?: string;
  /** Text message body. Mention keys are prepended unless already present. */
  text?: string;
  /** Rich text (`message_type: 'post'`). */
  post?: PostContent;
  /** Other types (`image`, `file`, …) with their raw content object. */
  messageType?: string;
  content?: Record<string, unknown>;
  mentions?: MentionInput[];
  /** Mention the bot (its open_id comes from `fake` or `botOpenId`). */
  mentionBot?: boolean;
  rootId?: string;
  parentId?: string;
  threadId?: string;
  /** Default `DEFAULT_USER_OPEN_ID`. */
  senderOpenId?: string;
  /** `bot` is what Feishu's receive event says for a bot sender; `app` what the message APIs say. */
  senderType?: 'user' | 'bot' | 'app';
  messageId?: string;
  eventId?: string;
  /** Verification token put in `header.token` (default `''`). */
  token?: string;
  /** Epoch ms (default now). */
  createTime?: number;
}

export const DEFAULT_USER_OPEN_ID = 'ou_0000000000000000000000000000user';
export const DEFAULT_GROUP_CHAT_ID = 'oc_00000000000000000000000000group';

function userIdFor(openId: string, overrides: { unionId?: string; userId?: string } = {}): FeishuUserId {
  // Stable per open_id so the same person always has the same union/user id.
  const digest = createHash('sha256').update(openId).digest('hex');
  return {
    open_id: openId,
    union_id: overrides.unionId ?? `on_${digest.slice(0, 32)}`,
    user_id: overrides.userId ?? digest.slice(32, 40),
  };
}

/** A v2 `im.message.receive_v1` event exactly as Feishu sends it (before encryption). */
export function buildMessageEvent(options: MessageEventOptions = {}): FeishuMessageReceiveEvent {
  const { fake } = options;
  const appId = options.appId ?? fake?.appId ?? `cli_${hex(8)}`;
  const tenantKey = options.tenantKey ?? fake?.tenantKey ?? 'tenant_default';
  const botOpenId = options.botOpenId ?? fake?.botOpenId;
  const botName = options.botName ?? fake?.botName ?? 'Test Bot';
  const chatType = options.chatType ?? 'group';
  const senderOpenId = options.senderOpenId ?? DEFAULT_USER_OPEN_ID;
  const chatId = options.chatId ?? (chatType === 'p2p' ? p2pChatIdFor(senderOpenId) : DEFAULT_GROUP_CHAT_ID);
  const createTime = String(options.createTime ?? Date.now());

  const mentionInputs: MentionInput[] = [];
  if (options.mentionBot) {
    if (!botOpenId) throw new Error('buildMessageEvent: mentionBot needs `fake` or `botOpenId`');
    mentionInputs.push({ openId: botOpenId, name: botName });
  }
  mentionInputs.push(...(options.mentions ?? []));
  let nextKey = 1;
  const used = new Set(mentionInputs.map((mention) => mention.key).filter(Boolean));
  const mentions: FeishuEventMention[] = mentionInputs.map((mention) => {
    let key = mention.key;
    if (!key) {
      while (used.has(`@_user_${nextKey}`)) nextKey++;
      key = `@_user_${nextKey}`;
      used.add(key);
    }
    return { key, id: userIdFor(mention.openId, mention), name: mention.name, tenant_key: tenantKey };
  });

  let messageType: string;
  let content: Record<string, unknown>;
  if (options.post) {
    messageType = 'post';
    const missing = mentions.filter(
      (mention) => !options.post?.content.some((line) => line.some((element) => element.user_id === mention.key)),
    );
    const atElements: PostElement[] = missing.map((mention) => ({
      tag: 'at',
      user_id: mention.key,
      user_name: mention.name,
    }));
    const [firstLine = [], ...rest] = options.post.content;
    content = {
      title: options.post.title ?? '',
      content: atElements.length > 0 ? [[...atElements, ...firstLine], ...rest] : options.post.content,
    };
  } else if (options.messageType && options.messageType !== 'text') {
    messageType = options.messageType;
    content = options.content ?? {};
  } else {
    messageType = 'text';
    const body = options.text ?? '';
    const missingKeys = mentions.map((mention) => mention.key).filter((key) => !body.includes(key));
    content = { text: missingKeys.length > 0 ? `${missingKeys.join(' ')} ${body}`.trimEnd() : body };
  }

  const event: FeishuMessageReceiveEvent = {
    schema: '2.0',
    header: {
      event_id: options.eventId ?? hex(16),
      event_type: 'im.message.receive_v1',
      create_time: createTime,
      token: options.token ?? '',
      app_id: appId,
      tenant_key: tenantKey,
    },
    event: {
      sender: {
        sender_id: userIdFor(senderOpenId),
        sender_type: options.senderType ?? 'user',
        tenant_key: tenantKey,
      },
      message: {
        message_id: options.messageId ?? `om_${hex(16)}`,
        ...(options.rootId ? { root_id: options.rootId } : {}),
        ...(options.parentId ? { parent_id: options.parentId } : {}),
        ...(options.threadId ? { thread_id: options.threadId } : {}),
        create_time: createTime,
        update_time: createTime,
        chat_id: chatId,
        chat_type: chatType,
        message_type: messageType,
        content: JSON.stringify(content),
        ...(mentions.length > 0 ? { mentions } : {}),
      },
    },
  };
  fake?.ingestMessageEvent(event);
  return event;
}

/** The challenge Feishu sends when the request URL is configured (plain or encrypted). */
export function buildUrlVerification({
  token = '',
  challenge = hex(16),
}: {
  token?: string;
  challenge?: string;
} = {}): {
  challenge: string;
  token: string;
  type: 'url_verification';
} {
  return { challenge, token, type: 'url_verification' };
}

/** A v1 (`event_callback`) text message event, the format older apps still receive. */
export function buildV1MessageEvent(
  options: {
    appId?: string;
    tenantKey?: string;
    token?: string;
    chatType?: 'p2p' | 'group';
    chatId?: string;
    text?: string;
    senderOpenId?: string;
    messageId?: string;
    isMention?: boolean;
    uuid?: string;
  } = {},
): Record<string, unknown> {
  const senderOpenId = options.senderOpenId ?? DEFAULT_USER_OPEN_ID;
  const chatType = options.chatType ?? 'group';
  const text = options.text ?? '';
  return {
    uuid: options.uuid ?? hex(16),
    token: options.token ?? '',
    ts: String(Date.now() / 1000),
    type: 'event_callback',
    event: {
      type: 'message',
      app_id: options.appId ?? `cli_${hex(8)}`,
      tenant_key: options.tenantKey ?? 'tenant_default',
      root_id: '',
      parent_id: '',
      open_chat_id: options.chatId ?? (chatType === 'p2p' ? p2pChatIdFor(senderOpenId) : DEFAULT_GROUP_CHAT_ID),
      chat_type: chatType === 'p2p' ? 'private' : 'group',
      msg_type: 'text',
      open_id: senderOpenId,
      union_id: userIdFor(senderOpenId).union_id,
      open_message_id: options.messageId ?? `om_${hex(16)}`,
      is_mention: options.isMention ?? false,
      text,
      text_without_at_bot: text.replace(/@_user_\d+\s*/g, ''),
    },
  };
}

/** A v2 `card.action.trigger` callback (a user clicked a card button). */
export function buildCardActionEvent(options: {
  fake?: FakeFeishu;
  appId?: string;
  tenantKey?: string;
  token?: string;
  operatorOpenId?: string;
  messageId: string;
  chatId?: string;
  value?: Record<string, unknown>;
  tag?: string;
  formValue?: Record<string, unknown>;
  eventId?: string;
}): Record<string, unknown> {
  const tenantKey = options.tenantKey ?? options.fake?.tenantKey ?? 'tenant_default';
  const operator = userIdFor(options.operatorOpenId ?? DEFAULT_USER_OPEN_ID);
  return {
    schema: '2.0',
    header: {
      event_id: options.eventId ?? hex(16),
      token: options.token ?? '',
      // Card callbacks carry create_time in microseconds.
      create_time: String(Date.now() * 1000),
      event_type: 'card.action.trigger',
      tenant_key: tenantKey,
      app_id: options.appId ?? options.fake?.appId ?? `cli_${hex(8)}`,
    },
    event: {
      operator: { tenant_key: tenantKey, ...operator },
      token: `c-${hex(16)}`,
      action: {
        value: options.value ?? {},
        tag: options.tag ?? 'button',
        ...(options.formValue ? { form_value: options.formValue } : {}),
      },
      host: 'im_message',
      context: {
        open_message_id: options.messageId,
        open_chat_id: options.chatId ?? options.fake?.message(options.messageId)?.chatId ?? DEFAULT_GROUP_CHAT_ID,
      },
    },
  };
}

/**
 * A v2 `im.chat.member.bot.added_v1` or `im.chat.member.bot.deleted_v1` event (the bot added to
 * or removed from a group), shaped as the SDK's event handler types: `chat_id`, `operator_id`,
 * `external`, `operator_tenant_key`, `name`, `i18n_names`.
 */
export function buildBotMembershipEvent(options: {
  kind: 'added' | 'deleted';
  chatId: string;
  fake?: FakeFeishu;
  appId?: string;
  tenantKey?: string;
  token?: string;
  operatorOpenId?: string;
  chatName?: string;
  eventId?: string;
  /** Epoch ms (default now). */
  createTime?: number;
}): Record<string, unknown> {
  const tenantKey = options.tenantKey ?? options.fake?.tenantKey ?? 'tenant_default';
  const name = options.chatName ?? 'Test group';
  return {
    schema: '2.0',
    header: {
      event_id: options.eventId ?? hex(16),
      event_type: `im.chat.member.bot.${options.kind}_v1`,
      create_time: String(options.createTime ?? Date.now()),
      token: options.token ?? '',
      app_id: options.appId ?? options.fake?.appId ?? `cli_${hex(8)}`,
      tenant_key: tenantKey,
    },
    event: {
      chat_id: options.chatId,
      operator_id: userIdFor(options.operatorOpenId ?? DEFAULT_USER_OPEN_ID),
      external: false,
      operator_tenant_key: tenantKey,
      name,
      i18n_names: { zh_cn: name, en_us: name },
    },
  };
}

/**
 * A v2 `contact.user.deleted_v3` event (a person deleted from the contacts: they left), shaped as
 * the SDK's event handler types: `object` is the user as it was (`open_id`, `union_id`,
 * `user_id`, `name`, `mobile`, `email`, `status` with `is_resigned`, …), `old_object` its former
 * department ids.
 */
export function buildUserDeletedEvent(options: {
  openId: string;
  fake?: FakeFeishu;
  appId?: string;
  tenantKey?: string;
  token?: string;
  name?: string;
  eventId?: string;
  /** Epoch ms (default now). */
  createTime?: number;
}): Record<string, unknown> {
  const ids = userIdFor(options.openId);
  return {
    schema: '2.0',
    header: {
      event_id: options.eventId ?? hex(16),
      event_type: 'contact.user.deleted_v3',
      create_time: String(options.createTime ?? Date.now()),
      token: options.token ?? '',
      app_id: options.appId ?? options.fake?.appId ?? `cli_${hex(8)}`,
      tenant_key: options.tenantKey ?? options.fake?.tenantKey ?? 'tenant_default',
    },
    event: {
      object: {
        ...ids,
        name: options.name ?? 'Departed Person',
        en_name: options.name ?? 'Departed Person',
        email: 'departed@example.com',
        mobile: '+8613800000000',
        status: { is_frozen: false, is_resigned: true, is_activated: true, is_exited: false, is_unjoin: false },
        department_ids: ['od-0000000000000000000000000000dep'],
      },
      old_object: { department_ids: ['od-0000000000000000000000000000dep'], open_id: options.openId },
    },
  };
}

// ───────────────────────────── crypto ─────────────────────────────

/** `{ encrypt }` exactly as Feishu builds it: AES-256-CBC, key = sha256(encryptKey), base64(iv ‖ ciphertext). */
export function encryptBody(
  body: unknown,
  encryptKey: string,
  { iv = randomBytes(16) }: { iv?: Buffer } = {},
): { encrypt: string } {
  const plaintext = typeof body === 'string' ? body : JSON.stringify(body);
  const key = createHash('sha256').update(encryptKey).digest();
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { encrypt: Buffer.concat([iv, ciphertext]).toString('base64') };
}

export interface SignatureHeaders {
  'x-lark-request-timestamp': string;
  'x-lark-request-nonce': string;
  'x-lark-signature': string;
}

/** Feishu's signature headers for a raw body: hex sha256(timestamp + nonce + encryptKey + rawBody). */
export function signRequest(
  rawBody: string,
  encryptKey: string,
  { timestamp = String(Math.floor(Date.now() / 1000)), nonce = hex(8) }: { timestamp?: string; nonce?: string } = {},
): SignatureHeaders {
  const signature = createHash('sha256')
    .update(timestamp + nonce + encryptKey)
    .update(rawBody)
    .digest('hex');
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signature,
  };
}

/** Ways to spoil a delivery, for negative tests. */
export type EventTamper =
  /** Flip one hex digit of the signature. */
  | 'signature'
  /** Change the body after signing. */
  | 'body'
  /** Sign correctly with a timestamp an hour old (replay). */
  | 'stale-timestamp'
  /** Drop the signature headers. */
  | 'unsigned'
  /** Corrupt the ciphertext (then re-sign, so only decryption fails). */
  | 'ciphertext'
  /** Send something that is not JSON (signed). */
  | 'not-json';

export interface EventRequestOptions {
  /** Encrypt the body (and sign it, unless `sign: false`). */
  encryptKey?: string;
  /**
   * Add signature headers (needs `encryptKey`). Default: true with an encrypt key, except for
   * `url_verification`, which Feishu sends without a signature.
   */
  sign?: boolean;
  tamper?: EventTamper;
  timestamp?: string;
  nonce?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
}

export interface EventRequestInit {
  method: 'POST';
  headers: Record<string, string>;
  /** The exact raw body that was signed. */
  body: string;
}

function isUrlVerification(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { type?: unknown }).type === 'url_verification';
}

/** Headers + raw body of one delivery, usable as `app.request(path, init)` or `fetch(url, init)`. */
export function eventRequest(event: unknown, options: EventRequestOptions = {}): EventRequestInit {
  const { encryptKey, tamper } = options;
  const sign = options.sign ?? (encryptKey !== undefined && !isUrlVerification(event));
  if (sign && encryptKey === undefined) throw new Error('eventRequest: sign needs encryptKey');
  let body: string;
  if (tamper === 'not-json') {
    body = '{"schema":"2.0",';
  } else if (encryptKey !== undefined) {
    const { encrypt } = encryptBody(event, encryptKey);
    const spoiled =
      tamper === 'ciphertext'
        ? Buffer.from(Buffer.from(encrypt, 'base64').map((byte, index) => (index >= 16 ? byte ^ 0xff : byte))).toString(
            'base64',
          )
        : encrypt;
    body = JSON.stringify({ encrypt: spoiled });
  } else {
    body = JSON.stringify(event);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...options.headers };
  if (sign && encryptKey !== undefined && tamper !== 'unsigned') {
    const timestamp =
      tamper === 'stale-timestamp' ? String(Math.floor(Date.now() / 1000) - 2 * 86_400) : options.timestamp;
    const signature = signRequest(body, encryptKey, { timestamp, nonce: options.nonce });
    if (tamper === 'signature') {
      const last = signature['x-lark-signature'].slice(-1);
      signature['x-lark-signature'] = signature['x-lark-signature'].slice(0, -1) + (last === '0' ? '1' : '0');
    }
    Object.assign(headers, signature);
  }
  if (tamper === 'body') body = body.replace(/}$/, ',"tampered":true}');
  return { method: 'POST', headers, body };
}

/** Delivers one event over HTTP, like Feishu's event push. */
export function postEvent(webhookUrl: string, event: unknown, options: EventRequestOptions = {}): Promise<Response> {
  return fetch(webhookUrl, eventRequest(event, options));
}

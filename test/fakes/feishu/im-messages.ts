import { cardStore } from './card-store.js';
import { defineFeishuArea, type FakeFeishu, type FeishuApiName, type FeishuRequest } from './core.js';
import {
  type FakeMessage,
  IM_CODES,
  type MessageStore,
  messageStore,
  p2pChatIdFor,
  type SeedMessageOptions,
} from './message-store.js';
import { fail, isReply, ok, type Reply } from './reply.js';
import { byteLength, HISTORY_LIMIT, hex, isRecord, parseJson, pushBounded } from './util.js';
import { cardVisibleText, postVisibleText, textVisibleText } from './visible-text.js';

/**
 * IM messages: `im/v1/messages` create / reply / patch / update (edit) / delete (recall) / get /
 * list, with Feishu's content limits, `uuid` idempotency, threads (`reply_in_thread`), real
 * pagination and the optional 5 sends/s per chat limit; plus what the user sees of a message.
 */

declare module './core.js' {
  interface FeishuApis {
    'im.message.create': true;
    'im.message.reply': true;
    'im.message.patch': true;
    'im.message.update': true;
    'im.message.delete': true;
    'im.message.get': true;
    'im.message.list': true;
  }
  interface FakeFeishuOptions {
    /**
     * Feishu's 5 messages/s per chat (shared by all bots in a group). Off by default; when on, a
     * create/reply over the limit answers HTTP 400 + 230020 and is recorded in `rateLimitViolations`.
     */
    chatSendRateLimit?: { perSecond: number } | false;
  }
  interface FakeFeishu {
    /** Messages, oldest first; optionally only one chat/thread. */
    messages(filter?: { chatId?: string; threadId?: string; fromBot?: boolean }): FakeMessage[];
    message(messageId: string): FakeMessage | undefined;
    /** Messages whose parent is `messageId` (the replies under it), oldest first. */
    repliesTo(messageId: string, options?: { fromBot?: boolean }): FakeMessage[];
    /** The text a user sees for the message now: text with mentions, post lines, card strings (streamed cards too). */
    visibleText(messageId: string): string;
    /** Adds a message as if someone had sent it earlier (chat history for `im.message.list`). */
    seedMessage(options: SeedMessageOptions): FakeMessage;
    /** Stores the user message of an `im.message.receive_v1` event so the bot can reply to it. */
    ingestMessageEvent(event: unknown): FakeMessage;
    /** The chat id the fake uses for the bot's direct chat with a user. */
    p2pChatIdFor(openId: string): string;
  }
}

const TEXT_LIMIT_BYTES = 150 * 1024;
const CARD_LIMIT_BYTES = 30 * 1024;
const EDIT_LIMIT = 20;

type ImMessageViews = Pick<
  FakeFeishu,
  'messages' | 'message' | 'repliesTo' | 'visibleText' | 'seedMessage' | 'ingestMessageEvent' | 'p2pChatIdFor'
>;

export const imMessagesArea = defineFeishuArea({
  name: 'im-messages',
  codes: IM_CODES,
  install(core): ImMessageViews {
    const { chatSendRateLimit = false } = core.options;
    const store = core.use(messageStore);
    const { cards } = core.use(cardStore);
    const chatSendTimes = new Map<string, number[]>();
    core.onReset(() => chatSendTimes.clear());

    /** Validates msg_type + content; returns the card id referenced, or an error reply. */
    function validateContent(msgType: unknown, content: unknown): { cardId: string | undefined } | Reply {
      if (typeof msgType !== 'string' || msgType === '')
        return fail(IM_CODES.imInvalidParameter, 'msg_type is required');
      if (typeof content !== 'string' || content === '')
        return fail(IM_CODES.imInvalidParameter, 'content is required');
      const parsed = parseJson(content);
      if (!parsed.ok || !isRecord(parsed.value)) {
        return fail(IM_CODES.imInvalidParameter, 'content is not a valid JSON object string');
      }
      const limit = msgType === 'text' ? TEXT_LIMIT_BYTES : CARD_LIMIT_BYTES;
      if (byteLength(content) > limit) {
        return fail(
          IM_CODES.messageTooLong,
          `The content of the message is too long (${byteLength(content)} > ${limit} bytes)`,
        );
      }
      const value = parsed.value;
      if (msgType === 'text' && typeof value.text !== 'string') {
        return fail(IM_CODES.imInvalidParameter, 'text content needs a "text" string');
      }
      if (msgType === 'interactive') {
        if (value.type === 'card') {
          const data = value.data;
          const cardId = isRecord(data) && typeof data.card_id === 'string' ? data.card_id : undefined;
          const card = cardId ? cards.get(cardId) : undefined;
          if (!cardId || !card) return fail(IM_CODES.cardContentFailed, `card_id ${String(cardId)} does not exist`);
          if (card.messageId) return fail(IM_CODES.cardContentFailed, `card ${cardId} has already been sent`);
          return { cardId };
        }
        if (value.type === 'template') return { cardId: undefined };
        if (!('elements' in value) && !('body' in value) && !('i18n_elements' in value)) {
          return fail(IM_CODES.cardContentFailed, 'card JSON has no elements/body');
        }
      }
      return { cardId: undefined };
    }

    function chatSendLimited(api: FeishuApiName, chatId: string): Reply | undefined {
      if (!chatSendRateLimit) return undefined;
      const at = core.now();
      const recent = (chatSendTimes.get(chatId) ?? []).filter((time) => at - time < 1000);
      if (recent.length >= chatSendRateLimit.perSecond) {
        chatSendTimes.set(chatId, recent);
        core.recordViolation({ chatId, api, at });
        return fail(IM_CODES.messageRateLimited, 'This operation triggers the frequency limit.');
      }
      recent.push(at);
      chatSendTimes.set(chatId, recent);
      return undefined;
    }

    /** Stores what the bot sent (create or reply) where `place` says, with its card and uuid. */
    function storeBotMessage(
      place: Pick<FakeMessage, 'chatId' | 'chatType'> & Partial<Pick<FakeMessage, 'rootId' | 'parentId' | 'threadId'>>,
      body: Record<string, unknown>,
      cardId: string | undefined,
      caller: FeishuRequest['caller'],
    ): FakeMessage {
      // Sent by the app whose token asked (several bots share one fake tenant).
      const app = caller.kind === 'tenant' ? caller.app : undefined;
      const message = store.store(
        store.create({
          ...place,
          ...(app === undefined ? {} : { sender: { id: app.appId, idType: 'app_id', senderType: 'app' } }),
          msgType: String(body.msg_type),
          content: String(body.content),
          cardId,
          uuid: typeof body.uuid === 'string' ? body.uuid : undefined,
          fromBot: true,
        }),
      );
      const card = message.cardId ? cards.get(message.cardId) : undefined;
      if (card) card.messageId = message.messageId;
      store.rememberUuid(body.uuid, message.messageId);
      return message;
    }

    function editMessage(message: FakeMessage, content: string): void {
      message.content = content;
      message.updated = true;
      message.editCount++;
      message.updateTime = core.now();
      pushBounded(message.contentHistory, content, HISTORY_LIMIT);
    }

    function createMessage({ query, body, caller }: FeishuRequest): Reply {
      const receiveIdType = query.receive_id_type;
      const receiveId = body.receive_id;
      if (!receiveIdType) return fail(IM_CODES.imInvalidParameter, 'receive_id_type is required');
      if (typeof receiveId !== 'string' || receiveId === '')
        return fail(IM_CODES.imInvalidParameter, 'receive_id is required');
      const existing = store.findByUuid(body.uuid);
      if (existing) return ok(store.item(existing));
      const validated = validateContent(body.msg_type, body.content);
      if (isReply(validated)) return validated;
      let chatId: string;
      let chatType: 'p2p' | 'group';
      if (receiveIdType === 'chat_id') {
        chatId = receiveId;
        chatType = store.chats.get(chatId) ?? 'group';
      } else if (['open_id', 'union_id', 'user_id', 'email'].includes(receiveIdType)) {
        chatId = p2pChatIdFor(receiveId);
        chatType = 'p2p';
      } else {
        return fail(IM_CODES.imInvalidParameter, `receive_id_type ${receiveIdType} is not supported`);
      }
      const limited = chatSendLimited('im.message.create', chatId);
      if (limited) return limited;
      return ok(store.item(storeBotMessage({ chatId, chatType }, body, validated.cardId, caller)));
    }

    function replyMessage({ params, body, caller }: FeishuRequest): Reply {
      const target = store.lookupTarget(params.message_id);
      if (isReply(target)) return target;
      const existing = store.findByUuid(body.uuid);
      if (existing) return ok(store.item(existing));
      const validated = validateContent(body.msg_type, body.content);
      if (isReply(validated)) return validated;
      const limited = chatSendLimited('im.message.reply', target.chatId);
      if (limited) return limited;
      const rootId = target.rootId ?? target.messageId;
      let threadId = target.threadId;
      if (!threadId && body.reply_in_thread === true) {
        threadId = `omt_${hex(8)}`;
        // The root becomes the thread's first message.
        const root = store.messages.get(rootId);
        if (root) root.threadId = threadId;
        if (target.messageId !== rootId) target.threadId = threadId;
        store.threadRoots.set(threadId, rootId);
      }
      const place = { chatId: target.chatId, chatType: target.chatType, rootId, parentId: target.messageId, threadId };
      return ok(store.item(storeBotMessage(place, body, validated.cardId, caller)));
    }

    function patchMessage({ params, body }: FeishuRequest): Reply {
      const target = store.lookupTarget(params.message_id);
      if (isReply(target)) return target;
      if (target.msgType !== 'interactive')
        return fail(IM_CODES.imInvalidParameter, 'only card messages can be patched');
      if (!target.fromBot) return fail(IM_CODES.imInvalidParameter, 'the bot can only patch its own messages');
      const validated = validateContent('interactive', body.content);
      if (isReply(validated)) return validated;
      if (validated.cardId) return fail(IM_CODES.imInvalidParameter, 'patch takes card JSON, not a card_id reference');
      editMessage(target, String(body.content));
      target.cardId = undefined;
      return ok({});
    }

    function updateMessage({ params, body }: FeishuRequest): Reply {
      const target = store.lookupTarget(params.message_id);
      if (isReply(target)) return target;
      if (!target.fromBot) return fail(IM_CODES.imInvalidParameter, 'the bot can only edit its own messages');
      if (target.msgType !== 'text' && target.msgType !== 'post') {
        return fail(IM_CODES.imInvalidParameter, 'only text and post messages can be edited');
      }
      if (body.msg_type !== 'text' && body.msg_type !== 'post') {
        return fail(IM_CODES.imInvalidParameter, 'msg_type must be text or post');
      }
      if (target.editCount >= EDIT_LIMIT)
        return fail(IM_CODES.editLimitReached, 'The message has reached the edit limit');
      const validated = validateContent(body.msg_type, body.content);
      if (isReply(validated)) return validated;
      target.msgType = String(body.msg_type);
      editMessage(target, String(body.content));
      return ok(store.item(target));
    }

    function deleteMessage({ params }: FeishuRequest): Reply {
      const target = store.lookupTarget(params.message_id);
      if (isReply(target)) return target;
      target.deleted = true;
      target.updateTime = core.now();
      return ok({});
    }

    /**
     * One message; for a forwarded bundle (`merge_forward`) the bundle first, then its members
     * flattened depth-first in order, each with `upper_message_id`, as Feishu documents it.
     */
    function getMessage({ params }: FeishuRequest): Reply {
      const messageId = params.message_id;
      const target = messageId ? store.messages.get(messageId) : undefined;
      if (!target) return fail(IM_CODES.imInvalidParameter, `message_id ${String(messageId)} not found`);
      const items = [store.item(target)];
      const addMembers = (bundleId: string, depth: number) => {
        if (depth > 10) return;
        for (const member of store.messages.values()) {
          if (member.upperMessageId !== bundleId) continue;
          items.push(store.item(member));
          if (member.msgType === 'merge_forward') addMembers(member.messageId, depth + 1);
        }
      };
      if (target.msgType === 'merge_forward') addMembers(target.messageId, 1);
      return ok({ items });
    }

    core.route({ api: 'im.message.create', method: 'POST', path: '/open-apis/im/v1/messages', handle: createMessage });
    core.route({
      api: 'im.message.list',
      method: 'GET',
      path: '/open-apis/im/v1/messages',
      handle: ({ query }) => listMessages(store, query),
    });
    core.route({
      api: 'im.message.reply',
      method: 'POST',
      path: '/open-apis/im/v1/messages/:message_id/reply',
      handle: replyMessage,
    });
    core.route({
      api: 'im.message.patch',
      method: 'PATCH',
      path: '/open-apis/im/v1/messages/:message_id',
      handle: patchMessage,
    });
    core.route({
      api: 'im.message.update',
      method: 'PUT',
      path: '/open-apis/im/v1/messages/:message_id',
      handle: updateMessage,
    });
    core.route({
      api: 'im.message.delete',
      method: 'DELETE',
      path: '/open-apis/im/v1/messages/:message_id',
      handle: deleteMessage,
    });
    core.route({
      api: 'im.message.get',
      method: 'GET',
      path: '/open-apis/im/v1/messages/:message_id',
      handle: getMessage,
    });

    return {
      messages(filter = {}) {
        return [...store.messages.values()]
          .filter(
            (message) =>
              (filter.chatId === undefined || message.chatId === filter.chatId) &&
              (filter.threadId === undefined || message.threadId === filter.threadId) &&
              (filter.fromBot === undefined || message.fromBot === filter.fromBot),
          )
          .sort((a, b) => a.createTime - b.createTime);
      },
      message: (messageId) => store.messages.get(messageId),
      repliesTo(messageId, replyOptions = {}) {
        return [...store.messages.values()].filter(
          (message) =>
            message.parentId === messageId &&
            (replyOptions.fromBot === undefined || message.fromBot === replyOptions.fromBot),
        );
      },
      visibleText(messageId) {
        const message = store.messages.get(messageId);
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
      },
      seedMessage: (options) => store.seed(options),
      ingestMessageEvent: (event) => store.ingestEvent(event),
      p2pChatIdFor,
    };
  },
});

/** `GET /open-apis/im/v1/messages`: a chat's or thread's history, sorted and paged as Feishu pages it. */
function listMessages(store: MessageStore, query: Record<string, string>): Reply {
  const containerType = query.container_id_type;
  const containerId = query.container_id;
  if (containerType !== 'chat' && containerType !== 'thread') {
    return fail(IM_CODES.imInvalidParameter, 'container_id_type must be chat or thread');
  }
  if (!containerId) return fail(IM_CODES.imInvalidParameter, 'container_id is required');
  const pageSize = query.page_size === undefined ? 20 : Number(query.page_size);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) {
    return fail(IM_CODES.imInvalidParameter, 'page_size must be an integer from 1 to 50');
  }
  const sortType = query.sort_type ?? 'ByCreateTimeAsc';
  if (sortType !== 'ByCreateTimeAsc' && sortType !== 'ByCreateTimeDesc') {
    return fail(IM_CODES.imInvalidParameter, 'sort_type must be ByCreateTimeAsc or ByCreateTimeDesc');
  }
  let items = [...store.messages.values()].filter((message) => {
    // Members of a forwarded bundle are read through the bundle, never listed in a chat.
    if (message.upperMessageId) return false;
    if (containerType === 'thread') return message.threadId === containerId;
    if (message.chatId !== containerId) return false;
    // The chat stream shows a thread's root but not the replies inside the thread.
    return !message.threadId || store.threadRoots.get(message.threadId) === message.messageId;
  });
  if (containerType === 'chat') {
    const start = query.start_time ? Number(query.start_time) * 1000 : undefined;
    const end = query.end_time ? Number(query.end_time) * 1000 : undefined;
    items = items.filter(
      (message) =>
        (start === undefined || message.createTime >= start) && (end === undefined || message.createTime <= end),
    );
  }
  const position = new Map([...store.messages.keys()].map((messageId, index) => [messageId, index]));
  items.sort(
    (a, b) => a.createTime - b.createTime || (position.get(a.messageId) ?? 0) - (position.get(b.messageId) ?? 0),
  );
  if (sortType === 'ByCreateTimeDesc') items.reverse();
  let offset = 0;
  if (query.page_token) {
    const decoded = parseJson(Buffer.from(query.page_token, 'base64url').toString('utf8'));
    const token = decoded.ok && isRecord(decoded.value) ? decoded.value : undefined;
    if (!token || typeof token.offset !== 'number' || token.container !== `${containerType}:${containerId}`) {
      return fail(IM_CODES.imInvalidParameter, 'page_token is invalid');
    }
    offset = token.offset;
  }
  const page = items.slice(offset, offset + pageSize);
  const hasMore = offset + pageSize < items.length;
  const pageToken = hasMore
    ? Buffer.from(JSON.stringify({ offset: offset + pageSize, container: `${containerType}:${containerId}` })).toString(
        'base64url',
      )
    : undefined;
  return ok({ has_more: hasMore, page_token: pageToken, items: page.map(store.item) });
}

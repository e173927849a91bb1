import { trimToTokenBudget } from '../agents/memory.js';
import { listMessages } from '../agents/tools/feishu-history.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { namesFor } from '../feishu/user-names.js';
import { conversationKey, type MessageLocation } from '../inbox/conversation-key.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { withTimeout } from '../util/with-timeout.js';

/**
 * How a group's discussion the bot was not mentioned in reaches the model when it is mentioned:
 * read from Feishu at that moment, kept from the message events as they arrive (the app must have
 * the group-message scope, or Feishu sends only mentions), or not at all.
 */
export type GroupContextMode = 'on-demand' | 'stored' | 'off';

/** One message of the room as the model sees it: who (a display name when known), when, what. */
export interface RoomMessage {
  messageId: string;
  author: string;
  text: string;
  /** Epoch ms. */
  at: number;
}

export interface RoomContextOptions {
  store: Store;
  /** Reading on demand needs it; without one only `stored` gives context. */
  feishuClient?: FeishuClient | undefined;
  bus: EventBus;
  log?: Logger;
  /** open_id → display name; the open_id stays when it cannot be known. */
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
  /** The bot's own ids (open_id, app id): its own messages are its memory, not the room. */
  botIds?: readonly string[];
  /** Messages given to the model at most. */
  maxMessages: number;
  /** Estimated tokens given to the model at most (newest kept). */
  tokenBudget: number;
  /** Feishu pages read on demand at most (50 messages each). */
  maxPages?: number;
  /** Deadline of the whole on-demand read, names included; past it the answer goes without. */
  timeoutMs?: number;
  /** Distinct people whose names are looked up per read at most; the rest keep their open_id. */
  maxNameLookups?: number;
}

export interface ReadRoomOptions {
  /** The conversation: a chat, or a thread in it (then only that thread is read). */
  where: MessageLocation;
  mode: GroupContextMode;
  /** The message being answered: it and everything after it are not "earlier discussion". */
  currentMessageId: string;
  currentTime: number;
  /** Message ids already in the conversation's memory (the bot's own exchanges). */
  known: ReadonlySet<string>;
  traceId?: string;
}

export interface RoomContext {
  /** The recent discussion before the current message, oldest first, within the bounds. Never throws. */
  read(options: ReadRoomOptions): Promise<RoomMessage[]>;
  /** Keeps one group message for `stored` mode (bounded per chat). */
  remember(
    where: MessageLocation,
    message: { messageId: string; senderId: string; text: string; at: number },
  ): Promise<void>;
}

/** The store key of the messages kept for one conversation in `stored` mode: never shared across chats. */
export function roomKey(where: MessageLocation): string {
  return `room:${conversationKey(where)}`;
}

/**
 * "Reads the room": when the bot is mentioned in a group, the newest messages of that same chat
 * it was not mentioned in, with their senders' display names, bounded by `maxMessages` and
 * `tokenBudget`. Only the chat the message came from is ever read, so nothing crosses chats, and
 * only chats the bot is a member of send it messages.
 *
 * @example
 * const room = createRoomContext({ store, feishuClient, bus, resolveUserName: names.name, maxMessages: 30, tokenBudget: 1500 });
 * const earlier = await room.read({ where: { chatId }, mode: 'on-demand', currentMessageId, currentTime, known });
 */
export function createRoomContext({
  store,
  feishuClient,
  bus,
  log,
  resolveUserName,
  botIds = [],
  maxMessages,
  tokenBudget,
  maxPages = 2,
  timeoutMs = 5_000,
  maxNameLookups = 20,
}: RoomContextOptions): RoomContext {
  // Kept with some slack: messages the bot was mentioned in are stored too and filtered on read.
  const maxStored = Math.max(maxMessages * 2, maxMessages + 20);

  async function fetchFromFeishu({ chatId, threadId, rootId }: MessageLocation): Promise<RoomMessage[]> {
    // A reply chain without a topic thread id cannot be listed on its own; the chat would mix topics.
    if (feishuClient === undefined || (rootId && !threadId)) return [];
    const messages = await listMessages({
      client: feishuClient,
      bus,
      container: threadId ? { type: 'thread', id: threadId } : { type: 'chat', id: chatId },
      order: 'desc',
      maxPages,
      // The bot's own answers and the mentions it already holds are dropped after the read.
      maxMessages: Math.min(maxPages * 50, maxMessages * 2),
    });
    return messages
      .filter((message) => message.text.length > 0 && !botIds.includes(message.senderId))
      .map((message) => ({
        messageId: message.messageId,
        author: message.senderId,
        text: message.text,
        at: message.createTime,
      }));
  }

  async function fromStore(where: MessageLocation): Promise<RoomMessage[]> {
    const kept = await store.readHistory(roomKey(where), maxStored);
    return kept.map((message) => ({
      messageId: message.messageId ?? '',
      author: message.author ?? 'someone',
      text: message.content,
      at: message.at,
    }));
  }

  /** open_ids → display names, bounded in count; unknown ones stay as they are. */
  async function withNames(messages: RoomMessage[]): Promise<RoomMessage[]> {
    const names = await namesFor(
      messages.map((message) => message.author),
      resolveUserName,
      maxNameLookups,
    );
    return messages.map((message) => ({ ...message, author: names.get(message.author) ?? message.author }));
  }

  return {
    async read({ where, mode, currentMessageId, currentTime, known, traceId }) {
      if (mode === 'off') return [];
      try {
        const work = async () => {
          const all = mode === 'stored' ? await fromStore(where) : await fetchFromFeishu(where);
          const earlier = all.filter(
            (message) =>
              message.messageId !== currentMessageId &&
              !known.has(message.messageId) &&
              (currentTime === 0 || message.at <= currentTime),
          );
          const newest = earlier.slice(-maxMessages);
          // The token budget is applied to what the model reads: names, not ids.
          const named = await withNames(newest);
          const asHistory: HistoryMessage[] = named.map((message) => ({
            role: 'user',
            content: message.text,
            at: message.at,
            author: message.author,
            messageId: message.messageId,
          }));
          const kept = new Set(trimToTokenBudget(asHistory, tokenBudget).map((message) => message.messageId));
          return named.filter((message) => kept.has(message.messageId));
        };
        return await withTimeout(work(), timeoutMs, () => new Error(`reading the room took over ${timeoutMs} ms`));
      } catch (error) {
        // Answering without the room beats not answering.
        log?.warn({ traceId, chatId: where.chatId, mode, err: error }, 'could not read the recent group discussion');
        return [];
      }
    },
    async remember(where, message) {
      if (message.text.trim() === '') return;
      await store.appendHistory(
        roomKey(where),
        [
          {
            role: 'user',
            content: message.text,
            at: message.at,
            author: message.senderId,
            messageId: message.messageId,
          },
        ],
        maxStored,
      );
    },
  };
}

/**
 * The room as one block the model reads before the question: each line `[time] Name: text`.
 *
 * @example
 * formatRoom([{ messageId: 'om_1', author: 'Li Lei', text: 'ship it?', at: 0 }]);
 */
export function formatRoom(messages: readonly RoomMessage[]): string {
  const lines = messages.map(
    (message) =>
      `[${new Date(message.at).toISOString().slice(0, 16).replace('T', ' ')}] ${message.author}: ${message.text}`,
  );
  return [
    'Recent messages in this group that were not addressed to you, oldest first (context only; answer the question that follows):',
    ...lines,
  ].join('\n');
}

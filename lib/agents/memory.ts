import type { FeishuClient } from '../feishu/feishu-client.js';
import { namesFor } from '../feishu/user-names.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { listMessages } from './tools/feishu-history.js';

/**
 * Conversation memory: what the manager remembers of a p2p chat, a group chat or a thread.
 *
 * - Kept in the Store (`appendHistory`/`readHistory`), so it survives restarts and is shared by
 *   every instance on Redis. The key is the conversation key of lib/inbox/conversation-key.ts
 *   (`chat:<id>` or `chat:<id>:thread:<id>`), the same one the dispatcher's lanes use.
 * - Bounded twice: the store keeps the newest `maxStoredMessages`; what goes to the model is the
 *   newest messages that fit `tokenBudget` (MEMORY_TOKEN_BUDGET).
 * - When the bot is first called inside a thread it has never seen, the thread's earlier messages
 *   are fetched from Feishu (oldest first, paginated, bounded) and stored, so it knows what was
 *   said before it was mentioned. A marker in the store makes that happen once per thread, so a
 *   `/reset` is not undone by fetching the thread again.
 */

export interface ConversationMemoryOptions {
  store: Store;
  /** MEMORY_TOKEN_BUDGET: estimated tokens of history sent to the model. */
  tokenBudget: number;
  /** Newest messages kept in the store per conversation. */
  maxStoredMessages?: number;
  /** Seeding threads from Feishu needs a client; without one threads start empty. */
  feishuClient?: FeishuClient;
  bus?: EventBus;
  /**
   * The bot's own ids: its open_id and its app id (the list API names bot senders by app id).
   * Thread messages from these become 'assistant' turns; with none given, every bot's do.
   */
  botIds?: readonly string[];
  /** Display names for the senders of a seeded thread (open_ids stay when unknown). */
  resolveUserName?: (openId: string) => Promise<string | undefined>;
  /** Bounds for seeding a thread: pages of 50, and messages kept. */
  seedMaxPages?: number;
  seedMaxMessages?: number;
  /** How long "this thread was seeded" is remembered. */
  seedMarkerTtlMs?: number;
  log?: Logger;
}

export interface LoadMemoryOptions {
  /** The conversation key (see conversationKey). */
  key: string;
  /** Set for topic threads (omt_…): enables seeding from Feishu. */
  threadId?: string;
  /** The message being answered: it is not part of the history fetched from Feishu. */
  currentMessageId?: string;
  traceId?: string;
}

export interface ConversationMemory {
  /** History for the model, oldest first, within the token budget. */
  load(options: LoadMemoryOptions): Promise<HistoryMessage[]>;
  append(key: string, messages: readonly HistoryMessage[]): Promise<void>;
  clear(key: string): Promise<void>;
}

/** Characters that tokenisers of current models treat as about one token each. */
const WIDE_CHARACTER = /[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]/u;
/** Role markers and separators each message costs in the chat format. */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * A cheap token estimate, good enough for a budget: about 4 characters per token for Latin
 * text, and 1 token per CJK character (Chinese, Japanese kana, Korean, full-width forms), which
 * is what tokenisers of current models do roughly. No tokenizer dependency, O(n).
 *
 * @example
 * estimateTokens('hello world'); // 3
 * estimateTokens('你好世界');      // 4
 */
export function estimateTokens(text: string): number {
  let wide = 0;
  let narrow = 0;
  for (const character of text) {
    if (WIDE_CHARACTER.test(character)) wide += 1;
    else narrow += 1;
  }
  return wide + Math.ceil(narrow / 4);
}

/** The newest messages whose estimated tokens fit the budget, oldest first. */
export function trimToTokenBudget(messages: readonly HistoryMessage[], budget: number): HistoryMessage[] {
  const kept: HistoryMessage[] = [];
  let used = 0;
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as HistoryMessage;
    const cost = estimateTokens(message.content) + estimateTokens(message.author ?? '') + MESSAGE_OVERHEAD_TOKENS;
    if (used + cost > budget) break;
    used += cost;
    kept.push(message);
  }
  return kept.reverse();
}

/**
 * @example
 * const memory = createConversationMemory({ store, tokenBudget: config.model.memoryTokenBudget, feishuClient, bus, botIds: [appId] });
 * const history = await memory.load({ key: conversationKey(message), threadId: message.threadId, currentMessageId: message.messageId });
 */
export function createConversationMemory({
  store,
  tokenBudget,
  maxStoredMessages = 200,
  feishuClient,
  bus,
  botIds = [],
  seedMaxPages = 4,
  seedMaxMessages = 100,
  seedMarkerTtlMs = 30 * 24 * 3_600_000,
  log,
  resolveUserName,
}: ConversationMemoryOptions): ConversationMemory {
  async function seedThread(key: string, threadId: string, currentMessageId: string | undefined, traceId?: string) {
    if (feishuClient === undefined || bus === undefined) return;
    const marker = `memory-seeded:${key}`;
    if (!(await store.claimKey(marker, seedMarkerTtlMs))) return;
    try {
      const messages = await listMessages({
        client: feishuClient,
        bus,
        container: { type: 'thread', id: threadId },
        order: 'asc',
        maxPages: seedMaxPages,
        maxMessages: seedMaxMessages,
      });
      // Everything from the current message on arrived while we were queued; it is not "earlier".
      const current = messages.findIndex((message) => message.messageId === currentMessageId);
      const before = (current === -1 ? messages : messages.slice(0, current)).filter(
        (message) => message.text.length > 0,
      );
      const names = await namesFor(
        before.filter((message) => message.senderType !== 'app').map((message) => message.senderId),
        resolveUserName,
      );
      const earlier = before.map(
        (message): HistoryMessage => ({
          role: message.senderType === 'app' && isOwnMessage(message.senderId) ? 'assistant' : 'user',
          content: message.text,
          at: message.createTime,
          author: names.get(message.senderId) ?? message.senderId,
          messageId: message.messageId,
        }),
      );
      if (earlier.length > 0) await store.appendHistory(key, earlier.slice(-maxStoredMessages), maxStoredMessages);
      log?.info({ traceId, key, seeded: earlier.length }, 'seeded memory from the thread');
    } catch (error) {
      // Let a later message try again; answering without the thread beats not answering.
      await store.releaseKey(marker).catch(() => {});
      log?.warn({ traceId, key, err: error }, 'could not read the thread history from Feishu');
    }
  }

  function isOwnMessage(senderId: string): boolean {
    return botIds.length === 0 || botIds.includes(senderId);
  }

  return {
    async load({ key, threadId, currentMessageId, traceId }) {
      let history = await store.readHistory(key, maxStoredMessages);
      if (history.length === 0 && threadId !== undefined) {
        await seedThread(key, threadId, currentMessageId, traceId);
        history = await store.readHistory(key, maxStoredMessages);
      }
      return trimToTokenBudget(history, tokenBudget);
    },
    append(key, messages) {
      return store.appendHistory(key, messages, maxStoredMessages);
    },
    clear(key) {
      return store.clearHistory(key);
    },
  };
}

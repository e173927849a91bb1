import { callFeishu } from '../feishu/call-feishu.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { textsFor } from '../i18n/bot-texts.js';
import { appScoped } from '../inbox/app-scope.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { InboundEvent } from '../inbox/inbound-event.js';
import type { JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import type { ChatLanguage, ChatSettings } from './chat-settings.js';

/** Feishu's events for the bot joining and leaving a group. */
export const BOT_ADDED_EVENT = 'im.chat.member.bot.added_v1';
export const BOT_REMOVED_EVENT = 'im.chat.member.bot.deleted_v1';
/** The job kind both become. */
export const CHAT_MEMBERSHIP_KIND = 'chat-membership';

/** Where the bot stands in a chat, kept as a store record per chat. */
export interface ChatMembershipRecord {
  chatId: string;
  state: 'member' | 'removed' | 'purged';
  /** Epoch ms of the change. */
  at: number;
  /** The chat's name from the event, for operators. */
  name?: string;
}

const COLLECTION = 'chat-membership';
/** Chats tracked at most (the oldest change forgotten first). */
const MAX_CHATS = 10_000;

export interface ChatMembershipOptions {
  /** The app (bot) whose memberships these are: each bot joins and leaves groups on its own. */
  appId?: string | undefined;
  store: Store;
  bus: EventBus;
  log: Logger;
  /** Without it no welcome is sent (the membership is still recorded). */
  feishuClient?: FeishuClient | undefined;
  /** The chat's language for the welcome, and its settings to purge. */
  chatSettings: ChatSettings;
  /** After removal, the chat's state is kept this long (CHAT_STATE_RETENTION_DAYS), then purged. */
  retentionMs: number;
  /** Purges state kept elsewhere for the chat too (its schedules). */
  purgeChat?: ((chatId: string) => Promise<unknown>) | undefined;
  botName?: string;
  now?: () => number;
}

export interface ChatMembership {
  /** The job handler for both events. */
  handler: JobHandler;
  /** Purges every chat removed for longer than the retention; returns how many. Housekeeping calls it. */
  purgeRemoved(now?: number): Promise<number>;
  /** The chats the bot joined or left, most recent change first (devtools). */
  list(limit: number): Promise<ChatMembershipRecord[]>;
}

/** The welcome card's Markdown in the chat's language (`auto`: both, since nobody has written yet). */
export function welcomeText(language: ChatLanguage, botName = 'your assistant'): string {
  if (language === 'zh' || language === 'en') return textsFor(language).welcome(botName);
  return `${textsFor('zh').welcome(botName)}\n\n---\n\n${textsFor('en').welcome(botName)}`;
}

function welcomeCard(text: string): string {
  return JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: text }] } });
}

interface MembershipEvent {
  chatId: string;
  name: string | undefined;
}

function readEvent(payload: unknown): { type: string; event: MembershipEvent | undefined; createdAt: number } {
  const inbound = payload as Partial<InboundEvent> | null;
  const body = (inbound?.event ?? {}) as { chat_id?: unknown; name?: unknown };
  const chatId = typeof body.chat_id === 'string' && body.chat_id !== '' ? body.chat_id : undefined;
  return {
    type: typeof inbound?.eventType === 'string' ? inbound.eventType : '',
    event: chatId === undefined ? undefined : { chatId, name: typeof body.name === 'string' ? body.name : undefined },
    createdAt: typeof inbound?.createdAt === 'number' ? inbound.createdAt : 0,
  };
}

/**
 * The bot joining and leaving groups. Added: it records the chat as a member and posts a short
 * welcome card saying what it does and how to configure it (once, whatever the retries: the
 * send carries the job's idempotency key). Removed: it records when, and `purgeRemoved` (run by
 * housekeeping) deletes the chat's memory, topics, kept discussion and settings once the
 * retention has passed, unless the bot was added back meanwhile.
 *
 * @example
 * const membership = createChatMembership({ store, bus, log, feishuClient, chatSettings, retentionMs });
 * handlers[CHAT_MEMBERSHIP_KIND] = membership.handler;
 */
export function createChatMembership({
  store,
  bus,
  log,
  feishuClient,
  chatSettings,
  retentionMs,
  purgeChat,
  botName,
  appId,
  now = Date.now,
}: ChatMembershipOptions): ChatMembership {
  const collection = appScoped(appId, COLLECTION);
  const record = (value: ChatMembershipRecord) => store.putRecord(collection, value.chatId, value, MAX_CHATS);

  async function welcome(chatId: string, uuid: string): Promise<void> {
    if (feishuClient === undefined) return;
    const { language } = await chatSettings.effective(chatId);
    await callFeishu(
      bus,
      'im.v1.message.create',
      () =>
        feishuClient.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: {
            receive_id: chatId,
            msg_type: 'interactive',
            content: welcomeCard(welcomeText(language, botName)),
            uuid,
          },
        }),
      { client: feishuClient, timeoutMs: 10_000 },
    );
  }

  async function purge(chatId: string): Promise<void> {
    // The chat's own conversation, its topics, and what was kept of its discussion.
    const conversation = conversationKey({ appId, chatId });
    for (const key of [conversation, `room:${conversation}`]) {
      await store.clearHistory(key);
      await store.clearHistoryWithPrefix(`${key}:`);
    }
    await chatSettings.purge(chatId);
    await purgeChat?.(chatId);
  }

  return {
    async handler(context) {
      const { type, event, createdAt } = readEvent(context.job.payload);
      if (event === undefined) {
        log.warn({ traceId: context.job.id, type }, 'chat membership event without a chat id ignored');
        return;
      }
      const at = createdAt || now();
      const current = (await store.getRecord(collection, event.chatId)) as ChatMembershipRecord | null;
      // Feishu may deliver an old event late: a change older than the one recorded changes nothing.
      const stale = current !== null && current.at > at;
      if (type === BOT_ADDED_EVENT) {
        if (!stale)
          await record({ chatId: event.chatId, state: 'member', at, ...(event.name ? { name: event.name } : {}) });
        log.info({ traceId: context.job.id, chatId: event.chatId }, 'added to a group: welcoming');
        await welcome(event.chatId, context.idempotencyKey('welcome'));
        return;
      }
      if (type === BOT_REMOVED_EVENT && !stale) {
        await record({ chatId: event.chatId, state: 'removed', at, ...(event.name ? { name: event.name } : {}) });
        log.info(
          { traceId: context.job.id, chatId: event.chatId, retentionMs },
          'removed from a group: state purged after retention',
        );
      }
    },
    async purgeRemoved(at = now()) {
      const chats = (await store.listRecords(collection, MAX_CHATS)) as ChatMembershipRecord[];
      let purged = 0;
      for (const chat of chats) {
        if (chat.state !== 'removed' || chat.at + retentionMs > at) continue;
        await purge(chat.chatId);
        await record({ ...chat, state: 'purged', at });
        purged += 1;
      }
      if (purged > 0) log.info({ chats: purged }, 'purged the state of groups the bot left');
      return purged;
    },
    async list(limit) {
      return (await store.listRecords(collection, limit)) as ChatMembershipRecord[];
    },
  };
}

import type { ChatAdminCheck } from '../conversation/card-actions.js';
import type { EventBus } from '../observe/event-bus.js';
import { callFeishu } from './call-feishu.js';
import type { FeishuClient } from './feishu-client.js';

/** Who may change a chat's settings, as Feishu says now. */
export interface ChatAdmins {
  /**
   * True when `openId` owns or manages the group (`im.v1.chat.get`: `owner_id`,
   * `user_manager_id_list`). Throws when Feishu cannot say (the caller refuses and tells why).
   */
  isAdmin(chatId: string, openId: string): Promise<boolean>;
}

export interface ChatAdminsOptions {
  client: FeishuClient;
  bus: EventBus;
  /**
   * An answer is reused this long: a `/config` burst asks Feishu once, and a removed admin loses
   * the right within this time. Default 30 s.
   */
  ttlMs?: number;
  /** Chats remembered at most (least recently asked forgotten first). */
  maxChats?: number;
  timeoutMs?: number;
  now?: () => number;
}

interface Entry {
  admins: ReadonlySet<string>;
  expiresAt: number;
}

/**
 * Chat owners and managers from Feishu's chat API, never from the event (an event says who
 * wrote, not what they may do). Cached briefly and bounded.
 *
 * @example
 * const admins = createChatAdmins({ client, bus });
 * if (!(await admins.isAdmin(message.chatId, message.sender.openId))) return 'Only the owner or a group admin can change settings.';
 */
export function createChatAdmins({
  client,
  bus,
  ttlMs = 30_000,
  maxChats = 1_000,
  timeoutMs = 5_000,
  now = Date.now,
}: ChatAdminsOptions): ChatAdmins {
  const cache = new Map<string, Entry>();

  async function adminsOf(chatId: string): Promise<ReadonlySet<string>> {
    const cached = cache.get(chatId);
    if (cached !== undefined && cached.expiresAt > now()) return cached.admins;
    const body = await callFeishu(
      bus,
      'im.v1.chat.get',
      () => client.im.v1.chat.get({ path: { chat_id: chatId }, params: { user_id_type: 'open_id' } }),
      { client, timeoutMs },
    );
    const admins = new Set<string>(body.data?.user_manager_id_list ?? []);
    if (body.data?.owner_id_type === 'open_id' && body.data.owner_id) admins.add(body.data.owner_id);
    cache.delete(chatId);
    cache.set(chatId, { admins, expiresAt: now() + ttlMs });
    while (cache.size > maxChats) cache.delete(cache.keys().next().value as string);
    return admins;
  }

  return {
    async isAdmin(chatId, openId) {
      if (openId === '') return false;
      return (await adminsOf(chatId)).has(openId);
    },
  };
}

/**
 * The yes/no form card buttons and typed stops use: a failed lookup answers false, so pressing
 * another person's button is refused rather than allowed when Feishu cannot say.
 *
 * @example
 * const isChatAdmin = createChatAdminCheck({ client, bus });
 * await isChatAdmin('oc_1', 'ou_2'); // true for the group's owner
 */
export function createChatAdminCheck(options: ChatAdminsOptions | { admins: ChatAdmins }): ChatAdminCheck {
  const admins = 'admins' in options ? options.admins : createChatAdmins(options);
  return (chatId, userId) => admins.isAdmin(chatId, userId).catch(() => false);
}

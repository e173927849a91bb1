import type { ChatAdminCheck } from '../conversation/card-actions.js';
import type { EventBus } from '../observe/event-bus.js';
import { callFeishu } from './call-feishu.js';
import type { FeishuClient } from './feishu-client.js';

export interface ChatAdminsOptions {
  client: FeishuClient;
  bus: EventBus;
  /** A chat's owner and managers are read again after this long. Default 60 s. */
  ttlMs?: number;
  /** Chats remembered at most; the least recently asked about is forgotten first. */
  maxChats?: number;
  /** A card callback must be answered within 3 s: the lookup gets less than that. */
  timeoutMs?: number;
  now?: () => number;
}

interface Entry {
  admins: ReadonlySet<string>;
  expiresAt: number;
}

/**
 * Whether someone administers a chat (its owner or one of its managers), from Feishu's chat API
 * (`im.v1.chat.get` with open_ids), cached per chat. A failed lookup answers false: pressing
 * another person's button is refused rather than allowed when Feishu cannot say.
 *
 * @example
 * const isChatAdmin = createChatAdminCheck({ client, bus });
 * await isChatAdmin('oc_1', 'ou_2'); // true for the group's owner
 */
export function createChatAdminCheck({
  client,
  bus,
  ttlMs = 60_000,
  maxChats = 1_000,
  timeoutMs = 1_500,
  now = Date.now,
}: ChatAdminsOptions): ChatAdminCheck {
  const chats = new Map<string, Entry>();

  async function admins(chatId: string): Promise<ReadonlySet<string>> {
    const cached = chats.get(chatId);
    if (cached !== undefined && cached.expiresAt > now()) return cached.admins;
    const body = await callFeishu(
      bus,
      'im.v1.chat.get',
      () => client.im.v1.chat.get({ path: { chat_id: chatId }, params: { user_id_type: 'open_id' } }),
      { client, timeoutMs },
    );
    const ids = new Set<string>(body?.data?.user_manager_id_list ?? []);
    if (body?.data?.owner_id) ids.add(body.data.owner_id);
    chats.delete(chatId);
    chats.set(chatId, { admins: ids, expiresAt: now() + ttlMs });
    while (chats.size > maxChats) chats.delete(chats.keys().next().value as string);
    return ids;
  }

  return async (chatId, userId) => {
    try {
      return (await admins(chatId)).has(userId);
    } catch {
      return false;
    }
  };
}

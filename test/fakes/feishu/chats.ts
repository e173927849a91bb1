import { defineFeishuArea } from './core.js';
import { fail } from './reply.js';

/**
 * Chats: `GET /open-apis/im/v1/chats/:chat_id` (`im.v1.chat.get`), the group's owner and
 * managers as the SDK's `.d.ts` describes the answer (`owner_id`, `owner_id_type`,
 * `user_manager_id_list`, `bot_manager_id_list`, `chat_mode`, `chat_type`, …). Only seeded chats
 * are known; ids follow `user_id_type` (the fake stores open_ids and answers them for any type).
 */

declare module './core.js' {
  interface FeishuApis {
    'im.chat.get': true;
  }
  interface FakeFeishu {
    /** Adds (or replaces) a group chat with its owner and managers. */
    seedChat(chat: SeedChat): void;
  }
}

export interface SeedChat {
  chatId: string;
  name?: string;
  ownerOpenId: string;
  managerOpenIds?: string[];
}

export const CHAT_CODES = {
  /** Feishu: the bot (operator) is not in the chat; the fake answers it for unknown chats. */
  notInChat: 232011,
} as const;

export const chatsArea = defineFeishuArea({
  name: 'chats',
  codes: CHAT_CODES,
  install(core) {
    const chats = new Map<string, SeedChat>();
    core.onReset(() => chats.clear());
    core.route({
      api: 'im.chat.get',
      method: 'GET',
      path: '/open-apis/im/v1/chats/:chat_id',
      handle({ params }) {
        const chat = chats.get(params.chat_id ?? '');
        if (chat === undefined) return fail(CHAT_CODES.notInChat, 'Bot is not in the chat');
        return {
          status: 200,
          body: {
            code: 0,
            msg: 'success',
            data: {
              name: chat.name ?? chat.chatId,
              description: '',
              owner_id_type: 'open_id',
              owner_id: chat.ownerOpenId,
              user_manager_id_list: chat.managerOpenIds ?? [],
              bot_manager_id_list: [],
              chat_mode: 'group',
              chat_type: 'private',
              tenant_key: core.tenantKey,
              chat_status: 'normal',
            },
          },
        };
      },
    });
    return {
      seedChat(chat: SeedChat) {
        chats.set(chat.chatId, chat);
      },
    };
  },
});

import { defineFeishuArea, type FakeFeishu } from './core.js';
import { fail, ok } from './reply.js';

/**
 * Chats: `GET /open-apis/im/v1/chats/:chat_id` (`im.v1.chat.get`), shaped as the SDK's type and
 * Feishu's "获取群信息" page: owner (`owner_id`, `owner_id_type`), chat managers
 * (`user_manager_id_list`, `bot_manager_id_list`), `chat_mode` (`group`, `topic`), and the
 * documented 232006 (invalid chat_id) and 232011 (the operator, here the bot, is not in the chat).
 */

/** A group chat in the fake. Members include the bot unless `botIsMember` is false. */
export interface FakeChat {
  chatId: string;
  name: string;
  ownerOpenId: string;
  managerOpenIds: string[];
  chatMode: 'group' | 'topic';
  botIsMember: boolean;
}

/** What `seedChat` takes: the chat id and owner, the rest defaulted. */
export type SeedChat = Partial<FakeChat> & { chatId: string; ownerOpenId: string };

declare module './core.js' {
  interface FeishuApis {
    'im.chat.get': true;
  }
  interface FakeFeishu {
    /** Adds or replaces a group chat (owner, managers, mode). */
    seedChat(chat: SeedChat): FakeChat;
  }
}

export const CHAT_CODES = {
  /** Documented: "Your request specifies a chat_id which is invalid." */
  chatIdInvalid: 232006,
  /** Documented: "Operator can NOT be out of the chat." */
  notInChat: 232011,
} as const;

export const chatsArea = defineFeishuArea({
  name: 'chats',
  codes: CHAT_CODES,
  install(core): Pick<FakeFeishu, 'seedChat'> {
    const chats = new Map<string, FakeChat>();
    core.onReset(() => chats.clear());
    core.route({
      api: 'im.chat.get',
      method: 'GET',
      path: '/open-apis/im/v1/chats/:chat_id',
      handle({ params, query }) {
        const chat = chats.get(params.chat_id ?? '');
        if (chat === undefined) return fail(CHAT_CODES.chatIdInvalid, 'invalid chat_id');
        if (!chat.botIsMember) return fail(CHAT_CODES.notInChat, 'operator is not in the chat');
        // Only open ids are kept; other id types answer as Feishu would with a different id space.
        const idType = query.user_id_type ?? 'open_id';
        const id = (openId: string) => (idType === 'open_id' ? openId : `${idType}_${openId.slice(3)}`);
        return ok({
          avatar: 'https://example.invalid/chat.png',
          name: chat.name,
          description: '',
          i18n_names: { zh_cn: chat.name, en_us: chat.name },
          add_member_permission: 'all_members',
          share_card_permission: 'allowed',
          at_all_permission: 'all_members',
          edit_permission: 'all_members',
          owner_id_type: idType,
          owner_id: id(chat.ownerOpenId),
          user_manager_id_list: chat.managerOpenIds.map(id),
          bot_manager_id_list: [],
          group_message_type: chat.chatMode === 'topic' ? 'thread' : 'chat',
          chat_mode: chat.chatMode,
          chat_type: 'private',
          chat_tag: 'inner',
          join_message_visibility: 'all_members',
          leave_message_visibility: 'all_members',
          membership_approval: 'no_approval_required',
          moderation_permission: 'all_members',
          external: false,
          tenant_key: core.tenantKey,
          user_count: String(1 + chat.managerOpenIds.length),
          bot_count: '1',
          chat_status: 'normal',
        });
      },
    });
    return {
      seedChat(chat) {
        const stored: FakeChat = {
          name: chat.chatId,
          managerOpenIds: [],
          chatMode: 'group',
          botIsMember: true,
          ...chat,
        };
        chats.set(stored.chatId, stored);
        return stored;
      },
    };
  },
});

import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu chats with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('answers im.v1.chat.get with the owner, the managers and the chat mode', async () => {
    const { fake, client } = feishu();
    fake.seedChat({
      chatId: 'oc_team',
      name: 'Team',
      ownerOpenId: 'ou_owner',
      managerOpenIds: ['ou_admin'],
      chatMode: 'topic',
    });
    const chat = await client.im.v1.chat.get({ path: { chat_id: 'oc_team' }, params: { user_id_type: 'open_id' } });
    expect(chat.data).toMatchObject({
      name: 'Team',
      owner_id: 'ou_owner',
      owner_id_type: 'open_id',
      user_manager_id_list: ['ou_admin'],
      chat_mode: 'topic',
    });
  });

  it('refuses an unknown chat and a chat the bot is not in with the documented codes', async () => {
    const { fake, client } = feishu();
    expect((await sdkFailure(client.im.v1.chat.get({ path: { chat_id: 'oc_none' } }))).code).toBe(
      FEISHU_CODES.chatIdInvalid,
    );
    fake.seedChat({ chatId: 'oc_left', ownerOpenId: 'ou_owner', botIsMember: false });
    expect((await sdkFailure(client.im.v1.chat.get({ path: { chat_id: 'oc_left' } }))).code).toBe(
      FEISHU_CODES.notInChat,
    );
  });
});

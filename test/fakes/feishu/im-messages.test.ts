import { describe, expect, it } from 'vitest';
import { createFeishuClient } from '../../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../../lib/log.js';
import { FEISHU_CODES, startFakeFeishu } from '../fake-feishu.js';
import { sdkFailure, text, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu IM messages with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('creates messages in group and p2p chats and shows what the user sees', async () => {
    const { fake, client } = feishu();
    const group = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_group', msg_type: 'text', content: text('hello <at user_id="ou_1">Ann</at>') },
    });
    expect(group.code).toBe(0);
    const groupId = group.data?.message_id ?? '';
    expect(groupId).toMatch(/^om_[0-9a-f]+$/);
    expect(group.data?.sender).toMatchObject({ id: fake.appId, id_type: 'app_id', sender_type: 'app' });
    expect(fake.visibleText(groupId)).toBe('hello @Ann');

    const direct = await client.im.v1.message.create({
      params: { receive_id_type: 'open_id' },
      data: {
        receive_id: 'ou_user',
        msg_type: 'post',
        content: JSON.stringify({
          zh_cn: {
            title: 'T',
            content: [
              [
                { tag: 'text', text: 'line ' },
                { tag: 'a', text: 'link', href: 'https://x' },
              ],
            ],
          },
        }),
      },
    });
    const directMessage = fake.message(direct.data?.message_id ?? '');
    expect(directMessage).toMatchObject({ chatType: 'p2p', chatId: fake.p2pChatIdFor('ou_user'), fromBot: true });
    expect(fake.visibleText(directMessage?.messageId ?? '')).toBe('T\nline link');
  });

  it('makes create and reply idempotent by uuid: one message per uuid', async () => {
    const { fake, client } = feishu();
    const user = fake.seedMessage({ chatId: 'oc_g', text: 'question', senderOpenId: 'ou_u' });
    const first = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'text', content: text('answer'), uuid: 'reply-1' },
    });
    const second = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'text', content: text('answer'), uuid: 'reply-1' },
    });
    expect(second.data?.message_id).toBe(first.data?.message_id);
    expect(fake.repliesTo(user.messageId)).toHaveLength(1);

    const created = await Promise.all(
      [1, 2, 3].map(() =>
        client.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: 'oc_g', msg_type: 'text', content: text('once'), uuid: 'create-1' },
        }),
      ),
    );
    expect(new Set(created.map((result) => result.data?.message_id)).size).toBe(1);
    expect(fake.messages({ chatId: 'oc_g', fromBot: true })).toHaveLength(2);

    // The uuid window ends after an hour.
    fake.advanceClock(60 * 60 * 1000 + 1);
    const later = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'text', content: text('answer'), uuid: 'reply-1' },
    });
    expect(later.data?.message_id).not.toBe(first.data?.message_id);
  });

  it('replies in a thread: root, parent and thread ids like Feishu', async () => {
    const { fake, client } = feishu();
    const root = fake.seedMessage({ chatId: 'oc_g', text: 'root' });
    const reply = await client.im.v1.message.reply({
      path: { message_id: root.messageId },
      data: { msg_type: 'text', content: text('in thread'), reply_in_thread: true },
    });
    const threadId = reply.data?.thread_id ?? '';
    expect(threadId).toMatch(/^omt_/);
    expect(reply.data).toMatchObject({ root_id: root.messageId, parent_id: root.messageId });
    expect(fake.message(root.messageId)?.threadId).toBe(threadId);

    // A later plain reply to a message inside the thread stays in the thread.
    const inside = await client.im.v1.message.reply({
      path: { message_id: reply.data?.message_id ?? '' },
      data: { msg_type: 'text', content: text('still in thread') },
    });
    expect(inside.data).toMatchObject({ thread_id: threadId, root_id: root.messageId });

    const unknown = await sdkFailure(
      client.im.v1.message.reply({
        path: { message_id: 'om_missing' },
        data: { msg_type: 'text', content: text('x') },
      }),
    );
    expect(unknown.code).toBe(FEISHU_CODES.imInvalidParameter);
  });

  it('lists chat and thread history with real pagination', async () => {
    const { fake, client } = feishu();
    const base = Date.UTC(2026, 0, 1);
    for (let index = 0; index < 7; index++) {
      fake.seedMessage({ chatId: 'oc_hist', text: `m${index}`, createTime: base + index * 1000, senderOpenId: 'ou_a' });
    }
    const threadRoot = fake.seedMessage({
      chatId: 'oc_hist',
      text: 'topic',
      createTime: base + 10_000,
      threadId: 'omt_t1',
    });
    fake.seedMessage({ chatId: 'oc_hist', text: 't-reply-1', createTime: base + 11_000, threadId: 'omt_t1' });
    fake.seedMessage({ chatId: 'oc_hist', text: 't-reply-2', createTime: base + 12_000, threadId: 'omt_t1' });

    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.im.v1.message.list({
        params: {
          container_id_type: 'chat',
          container_id: 'oc_hist',
          page_size: 3,
          sort_type: 'ByCreateTimeAsc',
          page_token: pageToken,
        },
      });
      pages++;
      for (const item of page.data?.items ?? []) seen.push(JSON.parse(item.body?.content ?? '{}').text);
      pageToken = page.data?.has_more ? page.data.page_token : undefined;
    } while (pageToken);
    // Thread replies stay in the thread; the chat stream shows the topic root only.
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'topic']);
    expect(pages).toBe(3);

    const thread = await client.im.v1.message.list({
      params: { container_id_type: 'thread', container_id: 'omt_t1', sort_type: 'ByCreateTimeDesc' },
    });
    expect(thread.data?.items?.map((item) => JSON.parse(item.body?.content ?? '{}').text)).toEqual([
      't-reply-2',
      't-reply-1',
      'topic',
    ]);
    expect(thread.data?.items?.[0]).toMatchObject({ root_id: threadRoot.messageId, thread_id: 'omt_t1' });

    const tooBig = await sdkFailure(
      client.im.v1.message.list({ params: { container_id_type: 'chat', container_id: 'oc_hist', page_size: 51 } }),
    );
    expect(tooBig.code).toBe(FEISHU_CODES.imInvalidParameter);
  });

  it('enforces content limits: text 150 KB, card 30 KB (230025)', async () => {
    const { client } = feishu();
    const bigText = await sdkFailure(
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: 'oc_g', msg_type: 'text', content: text('x'.repeat(151 * 1024)) },
      }),
    );
    expect(bigText.code).toBe(FEISHU_CODES.messageTooLong);
    const card = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'y'.repeat(31 * 1024) }] } };
    const bigCard = await sdkFailure(
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: 'oc_g', msg_type: 'interactive', content: JSON.stringify(card) },
      }),
    );
    expect(bigCard.code).toBe(FEISHU_CODES.messageTooLong);
    // 100 KB of text is fine.
    const fine = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_g', msg_type: 'text', content: text('z'.repeat(100 * 1024)) },
    });
    expect(fine.code).toBe(0);
  });

  it('patches inline cards and edits text; visibleText follows', async () => {
    const { fake, client } = feishu();
    const sent = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: {
        receive_id: 'oc_g',
        msg_type: 'interactive',
        content: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'thinking' }] } }),
      },
    });
    const messageId = sent.data?.message_id ?? '';
    expect(fake.visibleText(messageId)).toBe('thinking');
    await client.im.v1.message.patch({
      path: { message_id: messageId },
      data: { content: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'done' }] } }) },
    });
    expect(fake.visibleText(messageId)).toBe('done');
    expect(fake.message(messageId)?.updated).toBe(true);

    const plain = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_g', msg_type: 'text', content: text('draft') },
    });
    const notACard = await sdkFailure(
      client.im.v1.message.patch({ path: { message_id: plain.data?.message_id ?? '' }, data: { content: text('x') } }),
    );
    expect(notACard.code).toBe(FEISHU_CODES.imInvalidParameter);
    await client.im.v1.message.update({
      path: { message_id: plain.data?.message_id ?? '' },
      data: { msg_type: 'text', content: text('final') },
    });
    expect(fake.visibleText(plain.data?.message_id ?? '')).toBe('final');
  });

  it('optionally limits sends to 5 per second per chat (230020)', async () => {
    const clockMs = Date.UTC(2026, 0, 1);
    const strict = await startFakeFeishu({ clock: () => clockMs, chatSendRateLimit: { perSecond: 5 } });
    try {
      const strictClient = createFeishuClient({
        ...{ appId: strict.appId, appSecret: strict.appSecret },
        domain: strict.url,
        log: silentLogger(),
      });
      const send = (chatId: string) =>
        strictClient.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: chatId, msg_type: 'text', content: text('x') },
        });
      for (let index = 0; index < 5; index++) expect((await send('oc_busy')).code).toBe(0);
      expect((await sdkFailure(send('oc_busy'))).code).toBe(FEISHU_CODES.messageRateLimited);
      // Another chat has its own budget.
      expect((await send('oc_quiet')).code).toBe(0);
      expect(strict.rateLimitViolations()).toEqual([{ chatId: 'oc_busy', api: 'im.message.create', at: clockMs }]);
      expect(strict.messages({ chatId: 'oc_busy' })).toHaveLength(5);
    } finally {
      await strict.close();
    }
  });
});

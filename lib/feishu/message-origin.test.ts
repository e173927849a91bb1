import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFeishu, startFakeFeishu } from '../../test/fakes/fake-feishu.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { FeishuApiError } from './call-feishu.js';
import { createFeishuClient } from './feishu-client.js';
import { createMessageOriginCheck } from './message-origin.js';

describe('message origin check (real SDK client against the fake Feishu)', () => {
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = await startFakeFeishu();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.clearCalls());

  const check = () =>
    createMessageOriginCheck({
      client: createFeishuClient({
        appId: fake.appId,
        appSecret: fake.appSecret,
        domain: fake.url,
        log: silentLogger(),
      }),
      bus: createEventBus(),
      timeoutMs: 2_000,
    });

  it("confirms a message where the event says it is, with Feishu's thread fields, asking once per message", async () => {
    const root = fake.seedMessage({ chatId: 'oc_team', text: 'root', senderOpenId: 'ou_ann' });
    const reply = fake.seedMessage({
      chatId: 'oc_team',
      text: 'reply',
      senderOpenId: 'ou_ann',
      rootId: root.messageId,
      parentId: root.messageId,
    });
    const origins = check();
    const claimed = { messageId: reply.messageId, chatId: 'oc_team', senderOpenId: 'ou_ann' };
    const first = await origins.confirm(claimed);
    expect(first).toEqual({
      ok: true,
      origin: expect.objectContaining({
        chatId: 'oc_team',
        senderOpenId: 'ou_ann',
        rootId: root.messageId,
        parentId: root.messageId,
      }),
    });
    expect(await origins.confirm(claimed)).toEqual(first);
    expect(fake.callsTo('im.message.get')).toHaveLength(1);
  });

  it('refuses an event naming another chat than the message is in (a forged chat_id), even after a good claim was cached', async () => {
    const mine = fake.seedMessage({ chatId: 'oc_attacker', text: 'summarise this chat', senderOpenId: 'ou_mallory' });
    const origins = check();
    expect(
      (await origins.confirm({ messageId: mine.messageId, chatId: 'oc_attacker', senderOpenId: 'ou_mallory' })).ok,
    ).toBe(true);
    expect(
      await origins.confirm({ messageId: mine.messageId, chatId: 'oc_victim', senderOpenId: 'ou_mallory' }),
    ).toMatchObject({
      ok: false,
      reason: 'CHAT_MISMATCH',
    });
    expect(
      await origins.confirm({ messageId: mine.messageId, chatId: 'oc_attacker', senderOpenId: 'ou_boss' }),
    ).toMatchObject({
      ok: false,
      reason: 'SENDER_MISMATCH',
    });
    expect(fake.callsTo('im.message.get')).toHaveLength(1);
  });

  it('refuses a message Feishu does not know, and a bot-sent one claimed as a person’s', async () => {
    const origins = check();
    expect(await origins.confirm({ messageId: 'om_made_up', chatId: 'oc_team', senderOpenId: 'ou_ann' })).toMatchObject(
      {
        ok: false,
        reason: 'MESSAGE_UNKNOWN',
      },
    );
    const fromBot = fake.seedMessage({ chatId: 'oc_team', text: 'beep', senderType: 'app' });
    expect(
      await origins.confirm({ messageId: fromBot.messageId, chatId: 'oc_team', senderOpenId: fromBot.sender.id }),
    ).toMatchObject({ ok: false, reason: 'SENDER_MISMATCH' });
  });

  it('throws (so the job is retried) when Feishu fails for a while, and asks again next time', async () => {
    const message = fake.seedMessage({ chatId: 'oc_team', text: 'hi', senderOpenId: 'ou_ann' });
    const origins = check();
    const claimed = { messageId: message.messageId, chatId: 'oc_team', senderOpenId: 'ou_ann' };
    fake.inject({ api: 'im.message.get', status: 500 });
    await expect(origins.confirm(claimed)).rejects.toSatisfy((error) => FeishuApiError.isInstance(error));
    expect((await origins.confirm(claimed)).ok).toBe(true);
    expect(fake.callsTo('im.message.get')).toHaveLength(2);
  });
});

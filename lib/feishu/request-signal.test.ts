import { describe, expect, it } from 'vitest';
import { useFakeFeishuPerTest } from '../../test/fakes/feishu/sdk-harness.js';
import { withRequestSignal } from './request-signal.js';

describe('withRequestSignal (real lark SDK against the fake Feishu)', () => {
  const feishu = useFakeFeishuPerTest();

  it('closes the SDK request when the signal aborts; requests outside it are untouched', async () => {
    const { fake, client } = feishu();
    const chat = fake.seedChat({ chatId: 'oc_signal', ownerOpenId: 'ou_owner' });
    // Fetch the tenant token first: only the chat read is slow.
    await client.im.v1.chat.get({ path: { chat_id: chat.chatId } });
    fake.inject({ api: 'im.chat.get', latencyMs: 10_000 });
    const controller = new AbortController();
    const pending = withRequestSignal(controller.signal, () =>
      client.im.v1.chat.get({ path: { chat_id: chat.chatId } }),
    );
    await fake.waitFor(() => fake.callsTo('im.chat.get').length === 2, { description: 'the slow read' });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'CanceledError' });
    await fake.waitFor(() => fake.callsTo('im.chat.get')[1]?.clientClosed === true, {
      timeoutMs: 5_000,
      description: 'the request closed',
    });
    expect(fake.callsTo('im.chat.get')[0]?.clientClosed).toBe(false);
    // Outside a signal the same client answers as before.
    expect((await client.im.v1.chat.get({ path: { chat_id: chat.chatId } })).code).toBe(0);
  });
});

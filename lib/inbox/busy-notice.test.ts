import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessageEvent } from '../../test/fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../../test/fakes/fake-feishu.js';
import { createFeishuClient } from '../feishu/feishu-client.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import type { Job } from '../store/store.js';
import { createBusyNoticeHandler, DEFAULT_BUSY_TEXT } from './busy-notice.js';
import { idempotencyKey } from './idempotency-key.js';
import type { JobContext } from './job-handler.js';

function contextFor(payload: unknown, id = 'message:om:busy'): JobContext {
  const job: Job = {
    id,
    lane: 'notice:chat:oc',
    kind: 'notice',
    payload,
    status: 'leased',
    attempts: 1,
    owner: 'me',
    leaseUntil: null,
    availableAt: 0,
    checkpoint: null,
    lastError: null,
    createdAt: 0,
    updatedAt: 0,
  };
  return {
    job,
    signal: new AbortController().signal,
    saveCheckpoint: async () => {},
    idempotencyKey: (part) => idempotencyKey(id, part),
  };
}

describe('busy notice handler', () => {
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = await startFakeFeishu();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('replies politely to the message, once even when run twice', async () => {
    const client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
    const handler = createBusyNoticeHandler({ client, log: silentLogger(), bus: createEventBus() });
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'hello?' });
    const payload = {
      source: 'webhook',
      eventId: 'e',
      eventType: 'im.message.receive_v1',
      createdAt: 0,
      receivedAt: 0,
      event: event.event,
    };
    await handler(contextFor(payload));
    await handler(contextFor(payload));
    const replies = fake.repliesTo(event.event.message.message_id, { fromBot: true });
    expect(replies).toHaveLength(1);
    expect(fake.visibleText(replies[0]?.messageId ?? '')).toBe(DEFAULT_BUSY_TEXT);
  });

  it('sends nothing to a bot, or without a Feishu message', async () => {
    const client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
    const handler = createBusyNoticeHandler({ client, log: silentLogger(), bus: createEventBus() });
    fake.clearCalls();
    const fromBot = buildMessageEvent({ fake, chatType: 'p2p', text: 'beep', senderType: 'app' });
    await handler(contextFor({ event: fromBot.event }));
    await handler(contextFor({ source: 'devtools', event: {} }));
    expect(fake.callsTo('im.message.reply')).toHaveLength(0);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeadLetterReply } from '../../lib/conversation/handle-message.js';
import { createFeishuClient, type FeishuClient } from '../../lib/feishu/feishu-client.js';
import { createReplySinkForJob } from '../../lib/feishu/reply/reply-for-job.js';
import type { InboundEvent } from '../../lib/inbox/inbound-event.js';
import type { JobContext } from '../../lib/inbox/job-handler.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { buildMessageEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';

/**
 * Regression (found by the soak): a message whose holders were SIGKILLed three times mid-answer
 * was dead-lettered with its card still streaming half an answer. The dead-letter hook wired in
 * lib/bot.ts closes that card with a notice; a job that never started a reply gets nothing.
 */
describe('createDeadLetterReply with the real streaming card sink', () => {
  let fake: FakeFeishu;
  let client: FeishuClient;
  const bus = createEventBus();
  const log = silentLogger();

  beforeAll(async () => {
    fake = await startFakeFeishu();
    client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  let checkpoint: unknown;
  function contextFor(inbound: InboundEvent, attempts: number): JobContext {
    return {
      job: {
        id: `message:${(inbound.event as { message: { message_id: string } }).message.message_id}`,
        lane: 'lane',
        kind: 'answer',
        payload: inbound,
        status: 'leased',
        attempts,
        owner: 'worker',
        leaseUntil: null,
        availableAt: 0,
        checkpoint,
        lastError: null,
        createdAt: 0,
        updatedAt: 0,
      },
      signal: new AbortController().signal,
      saveCheckpoint: async (value) => {
        checkpoint = JSON.parse(JSON.stringify(value));
      },
      idempotencyKey: (part) => `dead-letter-${part}`,
    };
  }

  const hook = createDeadLetterReply({
    botOpenId: () => fake.botOpenId,
    replySinkFor: (reply) => createReplySinkForJob({ context: reply.job, message: reply, client, bus, log }),
  });

  function directMessage(): InboundEvent {
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'tell me everything' });
    return {
      source: 'webhook',
      eventId: event.header.event_id,
      eventType: event.header.event_type,
      createdAt: Date.now(),
      receivedAt: Date.now(),
      event: event.event,
    };
  }

  it('closes the card a dead holder left streaming, with a notice, in the same reply', async () => {
    checkpoint = undefined;
    const inbound = directMessage();
    const messageId = (inbound.event as { message: { message_id: string } }).message.message_id;
    // The last holder started the answer and died mid-stream.
    const dying = createReplySinkForJob({
      context: contextFor(inbound, 3),
      message: { messageId, chatId: fake.message(messageId)!.chatId },
      client,
      bus,
      log,
    });
    await dying.start();
    dying.update('Half of the ans');
    await fake.waitFor(() => fake.cards()[0]?.elements.answer?.content === 'Half of the ans');
    expect(fake.cards()[0]?.streaming).toBe(true);

    await hook(contextFor(inbound, 4));

    const replies = fake.repliesTo(messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    const card = fake.cardForMessage(replies[0]!.messageId)!;
    expect(card.streaming).toBe(false);
    expect(fake.visibleText(replies[0]!.messageId)).toBe('Sorry, I could not finish this answer. Please ask again.');
    expect(card.rejectedSequences).toEqual([]);
  });

  it('sends nothing for a job that never started a reply', async () => {
    checkpoint = undefined;
    const inbound = directMessage();
    await hook(contextFor(inbound, 4));
    expect(fake.messages({ fromBot: true })).toEqual([]);
    expect(fake.cards()).toEqual([]);
  });
});

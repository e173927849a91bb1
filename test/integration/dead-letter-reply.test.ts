import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeadLetterReply } from '../../lib/conversation/notice-handlers.js';
import { createFeishuClient, type FeishuClient } from '../../lib/feishu/feishu-client.js';
import { createReplySinkForJob } from '../../lib/feishu/reply/reply-for-job.js';
import type { InboundEvent } from '../../lib/inbox/inbound-event.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { buildMessageEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { jobAttempts } from '../support/job-attempts.js';

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
    client = createFeishuClient({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.url,
      log: silentLogger(),
    });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  /** The attempts of the job that answers `inbound`, sharing one checkpoint. */
  const attemptsOf = (inbound: InboundEvent) =>
    jobAttempts({
      id: `message:${(inbound.event as { message: { message_id: string } }).message.message_id}`,
      lane: 'lane',
      payload: inbound,
      keyPrefix: 'dead-letter',
    });

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
    const inbound = directMessage();
    const attempts = attemptsOf(inbound);
    const messageId = (inbound.event as { message: { message_id: string } }).message.message_id;
    // The last holder started the answer and died mid-stream.
    const dying = createReplySinkForJob({
      context: attempts.context(3),
      message: { messageId, chatId: fake.message(messageId)!.chatId },
      client,
      bus,
      log,
    });
    await dying.start();
    dying.update('Half of the ans');
    await fake.waitFor(() => fake.cards()[0]?.elements.answer?.content === 'Half of the ans');
    expect(fake.cards()[0]?.streaming).toBe(true);

    await hook(attempts.context(4));

    const replies = fake.repliesTo(messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    const card = fake.cardForMessage(replies[0]!.messageId)!;
    expect(card.streaming).toBe(false);
    expect(fake.visibleText(replies[0]!.messageId)).toBe('Sorry, I could not finish this answer. Please ask again.');
    expect(card.rejectedSequences).toEqual([]);
  });

  it('sends nothing for a job that never started a reply', async () => {
    const inbound = directMessage();
    const attempts = attemptsOf(inbound);
    await hook(attempts.context(4));
    expect(fake.messages({ fromBot: true })).toEqual([]);
    expect(fake.cards()).toEqual([]);
  });
});

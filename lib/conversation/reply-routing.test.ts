import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildMessageEvent } from '../../test/fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../../test/fakes/fake-feishu.js';
import { jobAttempts } from '../../test/support/job-attempts.js';
import { createDevtoolsReplies } from '../devtools/devtools-replies.js';
import { createFeishuClient, type FeishuClient } from '../feishu/feishu-client.js';
import { silentLogger } from '../log.js';
import type { EventSource } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { createReplyRouter, ReplyRouteError } from './reply-routing.js';
import type { ReplyContext } from './reply-sink.js';

describe('createReplyRouter', () => {
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

  /** The reply context of a direct message the fake Feishu knows, as it arrived over `source`. */
  function replyTo(source: EventSource, traceId: string): ReplyContext {
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'where does my answer go?' });
    const { message_id: messageId, chat_id: chatId } = event.event.message;
    const job = jobAttempts({ id: traceId, lane: `chat:${chatId}` }).context(1);
    return { traceId, source, messageId, chatId, chatType: 'p2p', replyInThread: false, job };
  }

  it('answers a Feishu message with a card under it, not in the playground', async () => {
    const devtools = createDevtoolsReplies();
    const route = createReplyRouter({ feishu: { client, cardUpdatesPerSecond: 10 }, devtools, bus, log });
    for (const source of ['webhook', 'websocket'] as const) {
      const reply = replyTo(source, `job-${source}`);
      const sink = route(reply);
      await sink.start();
      sink.update('It goes');
      await sink.finish('It goes under your message.');

      const replies = fake.repliesTo(reply.messageId, { fromBot: true });
      expect(replies).toHaveLength(1);
      expect(fake.cardForMessage(replies[0]?.messageId ?? '')?.streaming).toBe(false);
      expect(fake.visibleText(replies[0]?.messageId ?? '')).toContain('It goes under your message.');
      expect(devtools.get(reply.traceId)).toBeNull();
    }
  });

  it('streams a playground message back to devtools and writes nothing to Feishu', async () => {
    const devtools = createDevtoolsReplies();
    const route = createReplyRouter({ feishu: { client }, devtools, bus, log });
    const reply = replyTo('devtools', 'job-playground');
    const sink = route(reply);
    await sink.start();
    sink.update('Right');
    await sink.finish('Right here.');

    expect(devtools.get('job-playground')).toMatchObject({ type: 'finish', text: 'Right here.' });
    expect(fake.messages({ fromBot: true })).toEqual([]);
  });

  it('refuses a message from a channel that is off with a stable code', () => {
    const route = createReplyRouter({ bus, log });
    for (const source of ['webhook', 'devtools'] as const) {
      let thrown: unknown;
      try {
        route(replyTo(source, `job-off-${source}`));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ReplyRouteError);
      expect((thrown as ReplyRouteError).code).toBe('REPLY_CHANNEL_OFF');
    }
    expect(fake.messages({ fromBot: true })).toEqual([]);
  });
});

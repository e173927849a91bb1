import { describe, expect, it } from 'vitest';
import { useFakeFeishuChat } from '../../test/support/fake-feishu-chat.js';
import { jobAttempts } from '../../test/support/job-attempts.js';
import { createDevtoolsReplies } from '../devtools/devtools-replies.js';
import { silentLogger } from '../log.js';
import type { EventSource } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { createReplyRouter, ReplyRouteError } from './reply-routing.js';
import type { ReplyContext } from './reply-sink.js';

const CHAT = 'oc_reply_routing';

describe('createReplyRouter', () => {
  const chat = useFakeFeishuChat((fake) =>
    fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'where does my answer go?' }),
  );
  const bus = createEventBus();
  const log = silentLogger();

  /** The reply context of the seeded direct message, as it arrived over `source`. */
  function replyTo(source: EventSource, traceId: string): ReplyContext {
    const { messageId } = chat.userMessage;
    const job = jobAttempts({ id: traceId, lane: `chat:${CHAT}` }).context(1);
    return { traceId, source, messageId, chatId: CHAT, chatType: 'p2p', replyInThread: false, job };
  }

  it.each(['webhook', 'websocket'] as const)(
    'answers a Feishu message (%s) with a card under it, not in the playground',
    async (source) => {
      const devtools = createDevtoolsReplies();
      const route = createReplyRouter({
        feishu: { client: chat.client, cardUpdatesPerSecond: 10 },
        devtools,
        bus,
        log,
      });
      const reply = replyTo(source, `job-${source}`);
      const sink = route(reply);
      await sink.start();
      sink.update('It goes');
      await sink.finish('It goes under your message.');

      const replies = chat.fake.repliesTo(reply.messageId, { fromBot: true });
      expect(replies).toHaveLength(1);
      expect(chat.fake.cardForMessage(replies[0]?.messageId ?? '')?.streaming).toBe(false);
      expect(chat.fake.visibleText(replies[0]?.messageId ?? '')).toContain('It goes under your message.');
      expect(devtools.get(reply.traceId)).toBeNull();
    },
  );

  it('streams a playground message back to devtools and writes nothing to Feishu', async () => {
    const devtools = createDevtoolsReplies();
    const route = createReplyRouter({ feishu: { client: chat.client }, devtools, bus, log });
    const reply = replyTo('devtools', 'job-playground');
    const sink = route(reply);
    await sink.start();
    sink.update('Right');
    await sink.finish('Right here.');

    expect(devtools.get('job-playground')).toMatchObject({ type: 'finish', text: 'Right here.' });
    expect(chat.fake.messages({ fromBot: true })).toEqual([]);
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
    expect(chat.fake.messages({ fromBot: true })).toEqual([]);
  });
});

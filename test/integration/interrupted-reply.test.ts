import { beforeEach, describe, expect, it } from 'vitest';
import { createReplySinkForJob } from '../../lib/feishu/reply/reply-for-job.js';
import type { JobContext } from '../../lib/inbox/job-handler.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { useFakeFeishuChat } from '../support/fake-feishu-chat.js';
import { jobAttempts } from '../support/job-attempts.js';

/**
 * An answer interrupted by a drain closes its card with a notice, and its job is handed back.
 * When the card cannot take that notice (Feishu keeps refusing the write), the sink used to fall
 * back to a plain-text reply — a second bot message beside the card, which the next attempt
 * (in a cluster: another process, already running) then finishes. A drain notice that cannot be
 * shown is dropped instead; the card stays the one reply.
 */
const CHAT = 'oc_interrupted_chat';
const NOTICE = 'I was interrupted by a restart and will pick this up again in a moment.';

describe('an interrupted answer whose notice the card refuses', () => {
  const chat = useFakeFeishuChat((fake) =>
    fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'explain everything' }),
  );
  const attempts = jobAttempts({ id: 'message:interrupted', lane: CHAT, keyPrefix: 'interrupted' });
  beforeEach(() => {
    attempts.reset();
  });

  function sinkFor(context: JobContext) {
    return createReplySinkForJob({
      context,
      message: { messageId: chat.userMessage.messageId, chatId: CHAT },
      client: chat.client,
      bus: createEventBus(),
      log: silentLogger(),
      updatesPerSecond: 10,
      backoff: { initialMs: 5, maxMs: 20, jitter: 0, maxRetries: 2 },
    });
  }

  it('posts no text reply on a shutdown; the next attempt finishes the same card', async () => {
    const drain = new AbortController();
    const first = sinkFor(attempts.context(1, drain.signal));
    await first.start();
    first.update('The first half of');
    await chat.fake.waitFor(() => chat.fake.cards()[0]?.elements.answer?.content === 'The first half of');
    drain.abort('shutdown');
    // Feishu refuses every card write for now (a rate limit that outlasts the retries).
    let refusing = true;
    // Both ways a card is written: streamed text, and the update that closes it with its final text.
    const refusal = chat.fake.inject({
      api: '*',
      status: 400,
      code: 230020,
      times: Infinity,
      match: ({ path }) => refusing && (path.endsWith('/content') || /\/cards\/[^/]+$/.test(path)),
    });
    await first.fail('The first half of', NOTICE);
    expect(refusal.hits).toBeGreaterThan(0);
    const afterDrain = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(afterDrain.map((message) => message.msgType)).toEqual(['interactive']);
    expect(attempts.checkpoint).toMatchObject({ reply: { mode: 'card' } });

    // The job was handed back (attempt count unchanged); the next attempt continues the card.
    refusing = false;
    const second = sinkFor(attempts.context(1, new AbortController().signal));
    await second.start();
    second.update('The first half of the story');
    await second.finish('The first half of the story, and the second.');
    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    expect(replies[0]!.messageId).toBe(afterDrain[0]!.messageId);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe('The first half of the story, and the second.');
    expect(chat.fake.cardForMessage(replies[0]!.messageId)?.streaming).toBe(false);
  });

  it('still falls back to text when a finished answer cannot be written (nothing else would deliver it)', async () => {
    const drain = new AbortController();
    const first = sinkFor(attempts.context(1, drain.signal));
    await first.start();
    first.update('The whole');
    await chat.fake.waitFor(() => chat.fake.cards()[0]?.elements.answer?.content === 'The whole');
    drain.abort('shutdown');
    chat.fake.inject({ api: 'cardkit.cardElement.content', status: 400, code: 230020, times: Infinity });
    chat.fake.inject({ api: 'cardkit.card.update', status: 400, code: 230020, times: Infinity });
    await first.finish('The whole answer.');
    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies.map((message) => message.msgType)).toContain('text');
    expect(replies.some((message) => chat.fake.visibleText(message.messageId).includes('The whole answer.'))).toBe(
      true,
    );
  });

  it('in text mode, a shutdown posts nothing, so the answer of the next attempt keeps its uuid and arrives', async () => {
    // CardKit unavailable: the reply is plain text from the start.
    chat.fake.inject({ api: 'cardkit.card.create', status: 400, code: 99991672, times: Infinity });
    const drain = new AbortController();
    const first = sinkFor(attempts.context(1, drain.signal));
    await first.start();
    first.update('Half an');
    drain.abort('shutdown');
    await first.fail('Half an', NOTICE);
    expect(chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true })).toHaveLength(0);
    expect(attempts.checkpoint).toMatchObject({ reply: { mode: 'text' } });

    const second = sinkFor(attempts.context(1, new AbortController().signal));
    await second.start();
    await second.finish('Half an answer, then the rest.');
    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe('Half an answer, then the rest.');
  });
});

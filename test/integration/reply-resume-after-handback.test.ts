import { describe, expect, it } from 'vitest';
import { createReplySinkForJob, REPLY_ATTEMPT_KEY } from '../../lib/feishu/reply/reply-for-job.js';
import type { JobContext } from '../../lib/inbox/job-handler.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { useFakeFeishuChat } from '../support/fake-feishu-chat.js';
import { jobAttempts } from '../support/job-attempts.js';

/**
 * Regression (found by test/e2e/pm2-drain.test.ts: resumed writes after `pm2 reload` were refused
 * with 300317): a job handed back on shutdown keeps its attempt count, so the next process based
 * its card sequences on the same attempt number as the interrupted one. Its first writes were
 * refused and bumped (+1, +10, +100, +1000); once the interrupted attempt had sent more than 1 111
 * sequenced operations to the card (under 5 minutes of streaming at 4 updates/s, and repeated
 * hand-backs add up), the resumed attempt gave up on the card and sent the answer a second time
 * as a plain-text message under it.
 */
const CHAT = 'oc_handback_chat';
const NOTICE = 'I was interrupted by a restart and will pick this up again in a moment.';

describe('a reply resumed after a shutdown hand-back (same attempt count)', () => {
  const chat = useFakeFeishuChat((fake) =>
    fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'tell me a long story' }),
  );

  const attempts = jobAttempts({ id: 'message:handback', lane: CHAT, keyPrefix: 'handback' });
  /** Every attempt here has attempts = 1: the store gives the count back on a hand-back. */
  const handedBackContext = () => attempts.context(1);

  function sinkFor(context: JobContext) {
    return createReplySinkForJob({
      context,
      message: { messageId: chat.userMessage.messageId, chatId: CHAT },
      client: chat.client,
      bus: createEventBus(),
      log: silentLogger(),
      updatesPerSecond: 10,
      backoff: { initialMs: 10, maxMs: 50, jitter: 0, maxRetries: 2 },
    });
  }

  const botReplies = () => chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });

  it('continues the same card above every earlier sequence, and never posts the answer twice', async () => {
    attempts.reset();
    // Attempt 1 streams, then is interrupted by a drain: the card is closed with the notice.
    const first = sinkFor(handedBackContext());
    await first.start();
    first.update('Once upon a time');
    await first.fail('Once upon a time', NOTICE);
    const [reply] = botReplies();
    const cardId = chat.fake.cardForMessage(reply!.messageId)!.cardId;
    // Stand-in for a long first attempt: 2 000 sequenced operations on the card (8 min at 4/s).
    await chat.client.cardkit.v1.card.settings({
      path: { card_id: cardId },
      data: { settings: JSON.stringify({ config: { streaming_mode: false } }), sequence: 1_002_000 },
    });
    expect(chat.fake.cardState(cardId)?.sequence).toBe(1_002_000);

    // Attempt "1" again (handed back): it streams a little and is interrupted once more.
    const second = sinkFor(handedBackContext());
    await second.start();
    second.update('Once upon a time, there was');
    await second.fail('Once upon a time, there was', NOTICE);
    expect(attempts.checkpoint).toMatchObject({ [REPLY_ATTEMPT_KEY]: 2 });

    // And once more: the third run finishes the answer.
    const answer = 'Once upon a time, there was a bot that answered every message exactly once.';
    const third = sinkFor(handedBackContext());
    await third.start();
    third.update(answer.slice(0, 30));
    await third.finish(answer);
    expect(attempts.checkpoint).toMatchObject({ [REPLY_ATTEMPT_KEY]: 3 });

    const replies = botReplies();
    expect(replies.map((message) => message.msgType)).toEqual(['interactive']);
    const card = chat.fake.cardForMessage(replies[0]!.messageId)!;
    expect(card.cardId).toBe(cardId);
    expect(card.streaming).toBe(false);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe(answer);
    // Each run wrote above the one before it, none had a write refused for its sequence.
    expect(card.rejectedSequences).toEqual([]);
    expect(card.sequenceHistory.some((sequence) => sequence > 2_000_000 && sequence < 3_000_000)).toBe(true);
    expect(card.sequenceHistory.at(-1)).toBeGreaterThan(3_000_000);
  });
});

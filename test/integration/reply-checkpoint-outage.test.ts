/**
 * The first card is shown only once its id is in the job checkpoint. Found by the Redis outage
 * test (test/integration/redis-outage.test.ts): a card opened while the store was down was sent
 * anyway; the resumed attempt, without a checkpoint, opened a second card whose send was absorbed
 * by the reply uuid, so the user kept looking at the first card, stuck on "Thinking…".
 */
import { describe, expect, it } from 'vitest';
import {
  type CardCheckpoint,
  CheckpointNotSavedError,
  parseCardCheckpoint,
} from '../../lib/feishu/reply/card-checkpoint.js';
import { createStreamingCardReply } from '../../lib/feishu/reply/streaming-card-reply.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { StoreUnavailableError } from '../../lib/store/store.js';
import { useFakeFeishuChat } from '../support/fake-feishu-chat.js';

const CHAT = 'oc_checkpoint_outage';

describe('reply checkpoint during a store outage', () => {
  const chat = useFakeFeishuChat((fake) => fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'hello?' }));

  const sinkFor = (attempt: number, store: { down: boolean; saved?: CardCheckpoint }) =>
    createStreamingCardReply({
      client: chat.client,
      bus: createEventBus(),
      log: silentLogger(),
      traceId: 'job-outage',
      target: { messageId: chat.userMessage.messageId, chatId: CHAT, replyInThread: false },
      idempotencyKey: (part) => `job-outage-${part}`,
      updatesPerSecond: 10,
      backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
      attempt,
      checkpoint: parseCardCheckpoint(store.saved === undefined ? undefined : JSON.parse(JSON.stringify(store.saved))),
      saveCheckpoint: async (checkpoint) => {
        if (store.down) throw new StoreUnavailableError('Redis unavailable: Connection is closed');
        store.saved = checkpoint;
      },
    });

  it('does not send the first card while its checkpoint cannot be saved; the retry answers in one card', async () => {
    const store: { down: boolean; saved?: CardCheckpoint } = { down: true };
    const first = sinkFor(1, store);
    const error = await first.start().catch((caught: unknown) => caught);
    expect(CheckpointNotSavedError.isInstance(error)).toBe(true);
    // Nothing visible, and no plain-text fallback either (that would be a second answer later).
    expect(chat.fake.messages({ chatId: CHAT, fromBot: true })).toEqual([]);

    store.down = false;
    const second = sinkFor(2, store);
    await second.start();
    await second.finish('The whole answer.');
    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    const card = chat.fake.cardForMessage(replies[0]!.messageId)!;
    expect(card.streaming).toBe(false);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe('The whole answer.');
  });

  it('once the card is saved and shown, a failing checkpoint save no longer stops the answer', async () => {
    const store: { down: boolean; saved?: CardCheckpoint } = { down: false };
    const sink = sinkFor(1, store);
    await sink.start();
    store.down = true;
    await sink.finish('Answered through the outage.');
    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe('Answered through the outage.');
    expect(chat.fake.cardForMessage(replies[0]!.messageId)!.streaming).toBe(false);
  });
});

/**
 * A process killed mid-answer still answers exactly once, on the REAL answer path: the built service
 * (`node dist/server.js`) on a SQLite file, the manager agent on the real AI SDK against a slowly
 * streaming fake OpenAI, the CardKit card through the real lark SDK against the fake Feishu.
 * SIGKILL while the card streams; a new process resumes the job after the lease expires and
 * finishes the SAME card: one reply, closed, holding the whole answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { sleep, startBotProcess } from '../support/bot-process.js';
import {
  answerWith,
  deliver,
  directMessage,
  expectAnsweredOnce,
  serviceEnvironment,
  streamedUpdates,
  useServiceFakes,
  waitForClosedCard,
} from '../support/real-stack.js';

const LEASE_MS = 2_000;
/** About 300 characters in 8-character chunks 60 ms apart: a 2-3 s stream, long enough to kill mid-way. */
const ANSWER = Array.from({ length: 12 }, (_, index) => `Sentence ${index + 1} of a slowly streamed answer.`).join(' ');

describe('crash recovery on the real answer path (dist/server.js, SQLite, CardKit)', () => {
  const fakes = useServiceFakes();
  let directory: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'crash-real-'));
  });
  afterAll(async () => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('SIGKILL while the card streams; the restarted process finishes the same card, answered once', async () => {
    answerWith(fakes.openai, () => ANSWER, { chunkSize: 8, chunkDelayMs: 60 });
    const storePath = join(directory, 'bot.db');
    const env = serviceEnvironment({ ...fakes, storeUrl: `sqlite:${storePath}`, leaseMs: LEASE_MS });

    const first = await startBotProcess({ env, name: 'first' });
    const event = directMessage(fakes.feishu, 'tell me a slow story', { senderOpenId: 'ou_crash_real_user' });
    const messageId = event.event.message.message_id;
    expect(await deliver(first.url, event)).toBe(200);

    // Mid-answer: the card exists and has taken a few streamed updates, but the model is not done.
    await fakes.feishu.waitFor(() => streamedUpdates(fakes.feishu, messageId) >= 3, {
      timeoutMs: 30_000,
      description: 'a few streamed card updates',
    });
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const [interrupted] = fakes.feishu.repliesTo(messageId, { fromBot: true });
    const interruptedCard = fakes.feishu.cardForMessage(interrupted!.messageId)!;
    expect(interruptedCard.streaming).toBe(true);
    const interruptedText = Object.values(interruptedCard.elements).map((element) => element.content ?? '');
    expect(interruptedText).not.toContain(ANSWER);

    const second = await startBotProcess({ env, name: 'second' });
    await waitForClosedCard(fakes.feishu, messageId, 40_000);
    const { card } = expectAnsweredOnce(fakes.feishu, messageId, ANSWER);
    // The same card the first process opened, not a second one.
    expect(card.cardId).toBe(interruptedCard.cardId);
    expect(fakes.feishu.cards().filter((each) => each.messageId === interrupted!.messageId)).toHaveLength(1);
    expect(card.rejectedSequences).toEqual([]);

    // The job: done after exactly two attempts (the killed one and the resumed one).
    const store = openSqliteStore(storePath);
    try {
      const deadline = Date.now() + 10_000;
      while ((await store.getJob(`message:${messageId}`))?.status !== 'done') {
        if (Date.now() > deadline) throw new Error('job never completed after the restart');
        await sleep(50);
      }
      expect(await store.getJob(`message:${messageId}`)).toMatchObject({ status: 'done', attempts: 2 });
    } finally {
      await store.close();
    }
    // A re-delivery of the same event after all this is still a duplicate: nothing new is sent.
    expect(await deliver(second.url, event)).toBe(200);
    await sleep(300);
    expect(fakes.feishu.repliesTo(messageId, { fromBot: true })).toHaveLength(1);

    const exit = await second.stop();
    expect(exit.code).toBe(0);
  }, 90_000);
});

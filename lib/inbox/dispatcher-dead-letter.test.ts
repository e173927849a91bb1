import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import type { JobContext, JobHandler } from './job-handler.js';

/**
 * Regression (found by the soak: SIGKILLs while a slow answer streamed, three times over): a job
 * dead-lettered because its holders kept dying never ran its handler again, so the card it had
 * started kept streaming half an answer forever. `onDeadLetter` gets the last word.
 */
describe('dispatcher: last words before a dead letter', () => {
  let store: Store;
  let events: StampedBotEvent[];
  let dispatcher: Dispatcher | undefined;
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    events = [];
  });
  afterEach(async () => {
    await dispatcher?.stop();
    await store.close();
  });

  function start(
    answer: JobHandler,
    onDeadLetter: (context: JobContext, error: string) => Promise<void>,
    deadLetterTimeoutMs = 5_000,
  ) {
    dispatcher = createDispatcher({
      store,
      bus,
      log: silentLogger(),
      owner: 'survivor',
      handlers: { answer },
      concurrency: 2,
      leaseMs: 5_000,
      maxAttempts: 3,
      pollIntervalMs: 20,
      retryBackoffMs: 1,
      onDeadLetter,
      deadLetterTimeoutMs,
    });
    dispatcher.start();
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('a job whose holders died maxAttempts times: the hook runs while it is still held, then it is dead', async () => {
    await store.enqueue({ id: 'poison', lane: 'chat:p', kind: 'answer', payload: { text: 'hi' } });
    // Three holders claim it, save a checkpoint, and die (their leases simply expire).
    for (let holder = 1; holder <= 3; holder++) {
      const claimed = await store.claimNextJob({ owner: `dead-${holder}`, leaseMs: 1, now: Date.now() });
      expect(claimed?.attempts).toBe(holder);
      await store.saveCheckpoint('poison', `dead-${holder}`, { reply: { card: 'c1' } });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    let handlerRuns = 0;
    const seen: Array<{ checkpoint: unknown; error: string; status: string | undefined; saved: boolean }> = [];
    start(
      async () => {
        handlerRuns += 1;
      },
      async (context, error) => {
        const held = await store.getJob(context.job.id);
        // Still ours: it may save progress (the reply sink does).
        await context.saveCheckpoint({ reply: { card: 'c1' }, closed: true });
        seen.push({ checkpoint: context.job.checkpoint, error, status: held?.status, saved: true });
      },
    );
    await until(async () => (await store.getJob('poison'))?.status === 'dead');
    expect(handlerRuns).toBe(0);
    expect(seen).toEqual([
      { checkpoint: { reply: { card: 'c1' } }, error: 'holder lost 3 times', status: 'leased', saved: true },
    ]);
    expect(await store.getJob('poison')).toMatchObject({
      status: 'dead',
      checkpoint: { reply: { card: 'c1' }, closed: true },
    });
  });

  it('a job failing every attempt: the hook runs once, after the last attempt', async () => {
    await store.enqueue({ id: 'failing', lane: 'chat:f', kind: 'answer', payload: {} });
    let attempts = 0;
    const hookCalls: string[] = [];
    start(
      async () => {
        attempts += 1;
        throw new Error(`boom ${attempts}`);
      },
      async (_context, error) => {
        hookCalls.push(error);
      },
    );
    await until(async () => (await store.getJob('failing'))?.status === 'dead');
    expect(attempts).toBe(3);
    expect(hookCalls).toEqual(['boom 3']);
  });

  it('a hook that hangs or throws does not keep the job from its dead letter', async () => {
    await store.enqueue({ id: 'stuck-hook', lane: 'chat:s', kind: 'answer', payload: {} });
    let hookSignal: AbortSignal | undefined;
    start(
      async () => {
        throw new Error('always');
      },
      (context) => {
        hookSignal = context.signal;
        return new Promise<void>(() => {});
      },
      50,
    );
    await until(async () => (await store.getJob('stuck-hook'))?.status === 'dead');
    expect(hookSignal?.aborted).toBe(true);
    expect(hookSignal?.reason).toBe('timeout');
    expect(events.some((event) => event.type === 'job.finished' && event.outcome === 'dead')).toBe(true);
  });
});

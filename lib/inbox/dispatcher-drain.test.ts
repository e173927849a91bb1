import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import type { JobHandler } from './job-handler.js';

/**
 * Regression (found by test/e2e/pm2-drain.test.ts under `pm2 reload`): an answer that was being
 * closed when the drain budget ran out finished normally after the abort, yet the dispatcher
 * handed its job back, so the next process ran the model again and re-streamed the same card.
 */
describe('dispatcher drain: a handler that completes after the shutdown abort', () => {
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

  function start(answer: JobHandler): Dispatcher {
    dispatcher = createDispatcher({
      store,
      bus,
      log: silentLogger(),
      owner: 'drain-owner',
      handlers: { answer },
      concurrency: 2,
      leaseMs: 5_000,
      maxAttempts: 3,
      pollIntervalMs: 20,
      abortGraceMs: 500,
    });
    dispatcher.start();
    return dispatcher;
  }

  async function started(count: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (events.filter((event) => event.type === 'job.started').length < count) {
      if (Date.now() > deadline) throw new Error('jobs never started');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  const outcomes = (jobId: string) =>
    events.flatMap((event) => (event.type === 'job.finished' && event.jobId === jobId ? [event.outcome] : []));

  it('completes the job instead of handing it back (it must not be answered again)', async () => {
    await store.enqueue({ id: 'closing', lane: 'chat:c', kind: 'answer', payload: {} });
    let sawAbort = false;
    const running = start(async ({ signal }) => {
      // Still writing the final card when the budget runs out: it notices the abort but completes.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      sawAbort = signal.reason === 'shutdown';
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    await started(1);
    await running.drain(10);
    expect(sawAbort).toBe(true);
    expect(await store.getJob('closing')).toMatchObject({ status: 'done', owner: null });
    expect(outcomes('closing')).toEqual(['done']);
  });

  it('still hands back a job whose handler throws on the abort (an interrupted answer)', async () => {
    await store.enqueue({ id: 'interrupted', lane: 'chat:i', kind: 'answer', payload: {} });
    const running = start(async ({ signal }) => {
      await new Promise<void>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error(`stopped: ${String(signal.reason)}`)), {
          once: true,
        }),
      );
    });
    await started(1);
    await running.drain(10);
    expect(await store.getJob('interrupted')).toMatchObject({ status: 'pending', owner: null, attempts: 0 });
    expect(outcomes('interrupted')).toEqual(['released']);
  });
});

describe('dispatcher drain: a claim still in flight when the drain starts', () => {
  it('hands the claimed job straight back instead of running it after the drain returned', async () => {
    const store = openSqliteStore(':memory:');
    await store.enqueue({ id: 'late', lane: 'chat:late', kind: 'answer', payload: {} });
    // A slow store (a Redis round trip): the claim resolves only after the drain has begun.
    let releaseClaim: () => void = () => {};
    const claimGate = new Promise<void>((resolve) => {
      releaseClaim = resolve;
    });
    let claimStarted: () => void = () => {};
    const claiming = new Promise<void>((resolve) => {
      claimStarted = resolve;
    });
    const slowStore: Store = Object.create(store, {
      claimNextJob: {
        value: async (options: Parameters<Store['claimNextJob']>[0]) => {
          claimStarted();
          await claimGate;
          return store.claimNextJob(options);
        },
      },
    });
    let ran = false;
    const dispatcher = createDispatcher({
      store: slowStore,
      bus: createEventBus(),
      log: silentLogger(),
      owner: 'late-owner',
      handlers: {
        answer: async () => {
          ran = true;
        },
      },
      concurrency: 1,
      leaseMs: 5_000,
      maxAttempts: 3,
      pollIntervalMs: 10_000,
    });
    dispatcher.start();
    await claiming;
    const drained = dispatcher.drain(1_000);
    releaseClaim();
    await drained;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toBe(false);
    expect(await store.getJob('late')).toMatchObject({ status: 'pending', owner: null, attempts: 0 });
    await dispatcher.stop();
    await store.close();
  });
});

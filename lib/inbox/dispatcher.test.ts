import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.js';
import type { JobContext, JobHandler } from './job-handler.js';

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error(String(signal.reason)));
    signal.addEventListener('abort', () => reject(new Error(String(signal.reason))), { once: true });
  });
}

describe('dispatcher', () => {
  let store: Store;
  let events: StampedBotEvent[];
  let dispatchers: Dispatcher[];
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    events = [];
    dispatchers = [];
  });
  afterEach(async () => {
    for (const dispatcher of dispatchers) await dispatcher.stop();
    await store.close();
  });

  function start(handlers: Record<string, JobHandler>, options: Partial<DispatcherOptions> = {}): Dispatcher {
    const dispatcher = createDispatcher({
      store,
      bus,
      log: silentLogger(),
      owner: 'test-owner',
      handlers,
      concurrency: 4,
      leaseMs: 5_000,
      maxAttempts: 3,
      pollIntervalMs: 20,
      retryBackoffMs: 1,
      ...options,
    });
    dispatchers.push(dispatcher);
    dispatcher.start();
    return dispatcher;
  }

  const finishedOutcomes = (jobId: string) =>
    events.flatMap((event) => (event.type === 'job.finished' && event.jobId === jobId ? [event.outcome] : []));

  it('answers two quick messages of one conversation in order, other conversations in parallel', async () => {
    const log: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    for (const id of ['a1', 'a2', 'b1']) gates.set(id, deferred());
    await store.enqueue({ id: 'a1', lane: 'chat:a', kind: 'answer', payload: {} });
    await store.enqueue({ id: 'a2', lane: 'chat:a', kind: 'answer', payload: {} });
    await store.enqueue({ id: 'b1', lane: 'chat:b', kind: 'answer', payload: {} });
    start({
      answer: async ({ job }) => {
        log.push(`start ${job.id}`);
        await gates.get(job.id)?.promise;
        log.push(`end ${job.id}`);
      },
    });
    await waitFor(() => log.includes('start a1') && log.includes('start b1'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(log).not.toContain('start a2');
    gates.get('a1')?.resolve();
    await waitFor(() => log.includes('start a2'));
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    gates.get('a2')?.resolve();
    gates.get('b1')?.resolve();
    await waitFor(async () => (await store.countJobs()).done === 3);
  });

  it('never runs more than `concurrency` jobs at once', async () => {
    let running = 0;
    let peak = 0;
    for (let index = 0; index < 8; index++) {
      await store.enqueue({ id: `j${index}`, lane: `chat:${index}`, kind: 'answer', payload: {} });
    }
    start(
      {
        answer: async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running -= 1;
        },
      },
      { concurrency: 2 },
    );
    await waitFor(async () => (await store.countJobs()).done === 8);
    expect(peak).toBe(2);
  });

  it('follows an adaptive limit read at every claim, and admits more once woken after it grows', async () => {
    let limit = 1;
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 4 }, () => deferred());
    for (let index = 0; index < 4; index++) {
      await store.enqueue({ id: `j${index}`, lane: `chat:${index}`, kind: 'answer', payload: {} });
    }
    const dispatcher = start(
      {
        answer: async ({ job }) => {
          running += 1;
          peak = Math.max(peak, running);
          await gates[Number(job.id.slice(1))]!.promise;
          running -= 1;
        },
      },
      { concurrency: () => limit, pollIntervalMs: 60_000 },
    );
    await waitFor(() => running === 1);
    limit = 3;
    dispatcher.wake('answer');
    await waitFor(() => running === 3);
    expect(peak).toBe(3);
    for (const gate of gates) gate.resolve();
    await waitFor(async () => (await store.countJobs()).done === 4);
  });

  it('claims a burst together, one job per lane, never past the cap', async () => {
    let claimCalls = 0;
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    for (let index = 0; index < 6; index++) {
      const id = `burst${index}`;
      gates.set(id, deferred());
      // Two messages in each of three conversations.
      await store.enqueue({ id, lane: `chat:${index % 3}`, kind: 'answer', payload: {} });
    }
    const counting = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'claimNextJob') {
          return (...args: Parameters<Store['claimNextJob']>) => {
            claimCalls += 1;
            return target.claimNextJob(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const dispatcher = createDispatcher({
      store: counting,
      bus,
      log: silentLogger(),
      owner: 'me',
      handlers: {
        answer: async ({ job }) => {
          started.push(job.id);
          await gates.get(job.id)?.promise;
        },
      },
      concurrency: 5,
      leaseMs: 5_000,
      maxAttempts: 3,
      pollIntervalMs: 60_000,
    });
    dispatchers.push(dispatcher);
    dispatcher.start();
    await waitFor(() => started.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The first of each conversation, no second message of a lane while its first runs.
    expect(started.sort()).toEqual(['burst0', 'burst1', 'burst2']);
    expect(dispatcher.running().main).toBe(3);
    expect(claimCalls).toBeLessThanOrEqual(5);
    for (const gate of gates.values()) gate.resolve();
    await waitFor(async () => (await store.countJobs()).done === 6);
  });

  it('runs a busy notice even while every agent slot is taken', async () => {
    const gate = deferred();
    const noticed: string[] = [];
    await store.enqueue({ id: 'slow', lane: 'chat:a', kind: 'answer', payload: {} });
    start(
      {
        answer: async () => gate.promise,
        notice: async ({ job }) => {
          noticed.push(job.id);
        },
      },
      { concurrency: 1, reservedKinds: ['notice'] },
    );
    await waitFor(() => events.some((event) => event.type === 'job.started' && event.jobId === 'slow'));
    await store.enqueue({ id: 'busy', lane: 'notice:chat:b', kind: 'notice', payload: {} });
    dispatchers[0]?.wake();
    await waitFor(() => noticed.includes('busy'));
    gate.resolve();
  });

  it('a kind not named in reservedKinds waits for a main slot like any other', async () => {
    const gate = deferred();
    const started: string[] = [];
    await store.enqueue({ id: 'slow', lane: 'chat:a', kind: 'answer', payload: {} });
    const dispatcher = start(
      {
        answer: async () => gate.promise,
        notice: async ({ job }) => {
          started.push(job.id);
        },
      },
      { concurrency: 1 },
    );
    await waitFor(() => dispatcher.running().main === 1);
    await store.enqueue({ id: 'busy', lane: 'notice:chat:b', kind: 'notice', payload: {} });
    dispatcher.wake();
    // Several poll rounds (20 ms each) pass without a free slot.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(started).toEqual([]);
    expect(dispatcher.running()).toEqual({ main: 1, reserved: 0 });
    gate.resolve();
    await waitFor(() => started.includes('busy'));
  });

  it('wake(kind) queries nothing while that slot type is full (the ack path stays cheap)', async () => {
    let claims = 0;
    const counting = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'claimNextJob') {
          return (...args: Parameters<Store['claimNextJob']>) => {
            claims += 1;
            return target.claimNextJob(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const gate = deferred();
    await store.enqueue({ id: 'busy-1', lane: 'chat:a', kind: 'answer', payload: {} });
    const dispatcher = createDispatcher({
      store: counting,
      bus,
      log: silentLogger(),
      owner: 'me',
      handlers: { answer: async () => gate.promise, notice: async () => {} },
      concurrency: 1,
      reservedKinds: ['notice'],
      leaseMs: 5_000,
      maxAttempts: 3,
      pollIntervalMs: 60_000,
    });
    dispatchers.push(dispatcher);
    dispatcher.start();
    await waitFor(() => dispatcher.running().main === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = claims;
    for (let index = 0; index < 10; index++) dispatcher.wake('answer');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(claims).toBe(before);
    dispatcher.wake('notice');
    await waitFor(() => claims > before);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // One batch for the notice pool's free slots (2), nothing for the full agent pool.
    expect(claims - before).toBe(2);
    gate.resolve();
  });

  it('retries a failing job with back-off, then dead-letters it after maxAttempts', async () => {
    let calls = 0;
    await store.enqueue({ id: 'bad', lane: 'chat:a', kind: 'answer', payload: {} });
    start(
      {
        answer: async () => {
          calls += 1;
          throw new Error(`boom ${calls}`);
        },
      },
      // A long poll: the retries must be woken by the back-off timer, not found by polling.
      { maxAttempts: 3, pollIntervalMs: 60_000, retryBackoffMs: 5 },
    );
    await waitFor(async () => (await store.getJob('bad'))?.status === 'dead');
    expect(calls).toBe(3);
    expect(finishedOutcomes('bad')).toEqual(['retry', 'retry', 'dead']);
    expect((await store.getJob('bad'))?.lastError).toBe('boom 3');
  });

  it('wakes a retry by its timer even when the job was claimed again before its earlier retry timer fired', async () => {
    // A slow commit of the first failure: by the time it lands, the retry is already due, so the
    // pump for the freed slot claims the job at once, before the first retry's timer fires.
    let clock = 1_000_000;
    let slowCommits = 1;
    const slowStore: Store = {
      ...store,
      failJob(id, owner, options) {
        const failed = store.failJob(id, owner, options);
        if (slowCommits-- > 0) clock += 1_000;
        return failed;
      },
    };
    await store.enqueue({ id: 'bad', lane: 'chat:a', kind: 'answer', payload: {} }, clock);
    let calls = 0;
    start(
      {
        answer: async () => {
          calls += 1;
          throw new Error(`boom ${calls}`);
        },
      },
      { store: slowStore, now: () => clock, maxAttempts: 3, pollIntervalMs: 60_000, retryBackoffMs: 50 },
    );
    await waitFor(() => calls === 2);
    // The first retry's timer (due at +50 ms) has nothing to claim; the second retry (+100 ms)
    // must still get a timer of its own.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toBe(2);
    clock += 1_000;
    await waitFor(async () => (await store.getJob('bad'))?.status === 'dead');
    expect(calls).toBe(3);
    expect(finishedOutcomes('bad')).toEqual(['retry', 'retry', 'dead']);
  });

  it('dead-letters without running a job whose holders kept dying (attempts > maxAttempts)', async () => {
    let clock = 1_000_000;
    await store.enqueue({ id: 'poison', lane: 'chat:a', kind: 'answer', payload: {} }, clock);
    for (let crash = 0; crash < 2; crash++) {
      // A holder that claims and then vanishes: its lease simply expires.
      clock += 100;
      await store.claimNextJob({ owner: `ghost-${crash}`, leaseMs: 10, now: clock });
    }
    let ran = false;
    start(
      {
        answer: async () => {
          ran = true;
        },
      },
      {
        maxAttempts: 2,
        now: () => {
          clock += 100;
          return clock;
        },
      },
    );
    await waitFor(async () => (await store.getJob('poison'))?.status === 'dead');
    expect(ran).toBe(false);
    expect(finishedOutcomes('poison')).toEqual(['dead']);
  });

  it('on start-up resumes a job whose holder died (expired lease), with its checkpoint', async () => {
    await store.enqueue({ id: 'orphan', lane: 'chat:a', kind: 'answer', payload: {} });
    const claimed = await store.claimNextJob({ owner: 'crashed-process', leaseMs: 1 });
    await store.saveCheckpoint('orphan', 'crashed-process', { cardId: 'card-1' });
    expect(claimed?.id).toBe('orphan');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const seen: JobContext[] = [];
    start({
      answer: async (context) => {
        seen.push(context);
      },
    });
    await waitFor(async () => (await store.getJob('orphan'))?.status === 'done');
    expect(seen[0]?.job.attempts).toBe(2);
    expect(seen[0]?.job.checkpoint).toEqual({ cardId: 'card-1' });
  });

  it('renews the lease while a long job runs, so nobody else can take it', async () => {
    await store.enqueue({ id: 'long', lane: 'chat:a', kind: 'answer', payload: {} });
    const gate = deferred();
    // Renewed every 100 ms; the checks span twice the lease, so without renewal one would succeed.
    start({ answer: async () => gate.promise }, { leaseMs: 300 });
    await waitFor(() => events.some((event) => event.type === 'job.started'));
    for (let check = 0; check < 4; check++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await store.claimNextJob({ owner: 'other-process', leaseMs: 1_000 })).toBeNull();
    }
    gate.resolve();
    await waitFor(async () => (await store.getJob('long'))?.status === 'done');
  });

  it('aborts the handler with reason lease-lost when renewal fails', async () => {
    const lossy = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'renewLease') return async () => false;
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await store.enqueue({ id: 'lost', lane: 'chat:a', kind: 'answer', payload: {} });
    let reason: unknown;
    const dispatcher = createDispatcher({
      store: lossy,
      bus,
      log: silentLogger(),
      owner: 'me',
      handlers: {
        answer: async ({ signal }) => {
          await untilAborted(signal).catch(() => {
            reason = signal.reason;
          });
        },
      },
      concurrency: 1,
      leaseMs: 60,
      maxAttempts: 3,
      pollIntervalMs: 1_000,
    });
    dispatchers.push(dispatcher);
    dispatcher.start();
    await waitFor(() => reason !== undefined);
    expect(reason).toBe('lease-lost');
    await waitFor(() => finishedOutcomes('lost').length === 1);
    expect(finishedOutcomes('lost')).toEqual(['released']);
  });

  it('saveCheckpoint and idempotencyKey: stable per job and part, ≤ 50 chars', async () => {
    await store.enqueue({ id: 'message:om_1', lane: 'chat:a', kind: 'answer', payload: {} });
    const keys: string[] = [];
    start({
      answer: async (context) => {
        await context.saveCheckpoint({ step: 1 });
        keys.push(context.idempotencyKey('reply'), context.idempotencyKey('reply'), context.idempotencyKey('card'));
      },
    });
    await waitFor(async () => (await store.getJob('message:om_1'))?.status === 'done');
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).not.toBe(keys[2]);
    expect(keys[0]?.length).toBeLessThanOrEqual(50);
    expect((await store.getJob('message:om_1'))?.checkpoint).toEqual({ step: 1 });
  });

  it('drain waits for running jobs, then aborts the rest with reason shutdown and hands them back', async () => {
    await store.enqueue({ id: 'quick', lane: 'chat:q', kind: 'answer', payload: {} });
    await store.enqueue({ id: 'stuck', lane: 'chat:s', kind: 'answer', payload: {} });
    let stuckReason: unknown;
    let quickDone = false;
    const dispatcher = start({
      answer: async ({ job, signal }) => {
        if (job.id === 'quick') {
          await new Promise((resolve) => setTimeout(resolve, 40));
          quickDone = true;
          return;
        }
        await untilAborted(signal).catch((error) => {
          stuckReason = signal.reason;
          throw error;
        });
      },
    });
    await waitFor(() => events.filter((event) => event.type === 'job.started').length === 2);
    await dispatcher.drain(1_000);
    expect(quickDone).toBe(true);
    expect(stuckReason).toBe('shutdown');
    expect(await store.getJob('quick')).toMatchObject({ status: 'done' });
    // Handed back: pending, unowned, and the aborted attempt does not count.
    expect(await store.getJob('stuck')).toMatchObject({ status: 'pending', owner: null, attempts: 0 });
    expect(finishedOutcomes('stuck')).toEqual(['released']);
    // After drain nothing new is claimed.
    await store.enqueue({ id: 'late', lane: 'chat:l', kind: 'answer', payload: {} });
    dispatcher.wake();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await store.getJob('late'))?.status).toBe('pending');
  });

  it('drain leaves the lease of a handler that ignores the abort to lapse, then another holder resumes', async () => {
    await store.enqueue({ id: 'deaf', lane: 'chat:d', kind: 'answer', payload: {} });
    const never = deferred();
    const dispatcher = start({ answer: async () => never.promise }, { abortGraceMs: 20, leaseMs: 1_000 });
    await waitFor(() => events.some((event) => event.type === 'job.started'));
    await dispatcher.drain(20);
    // Still leased to this process, so nobody resumes the card it may still be writing…
    const held = await store.getJob('deaf');
    expect(held).toMatchObject({ status: 'leased', owner: 'test-owner' });
    expect(await store.claimNextJob({ owner: 'next-process', leaseMs: 1_000 })).toBeNull();
    expect(finishedOutcomes('deaf')).toEqual(['released']);
    // …and no longer renewed: past its end the next process takes it over.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await store.getJob('deaf'))?.leaseUntil).toBe(held?.leaseUntil);
    expect(await store.claimNextJob({ owner: 'next-process', leaseMs: 1_000 })).toMatchObject({ id: 'deaf' });
    // The abandoned handler finishing late writes nothing over the new holder.
    never.resolve();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.getJob('deaf')).toMatchObject({ status: 'leased', owner: 'next-process' });
    expect(finishedOutcomes('deaf')).toEqual(['released']);
  });
});

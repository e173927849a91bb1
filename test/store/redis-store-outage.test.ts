/**
 * The Redis store while its Redis is down, against a private redis-server that the test kills
 * and restarts: every call fails with StoreUnavailableError (so the webhook answers 503 and
 * /metrics says store_up 0) instead of answering from nothing, and the store reconnects by itself.
 * A Redis that answers but refuses writes (out of memory, a failing disk) counts as unavailable too.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import { type Store, StoreUnavailableError } from '../../lib/store/store.js';
import { sleep } from '../support/bot-process.js';
import { type PrivateRedis, requireRedisServer, startPrivateRedis } from '../support/private-redis.js';

describe.runIf(requireRedisServer())('Redis store during an outage', () => {
  let redis: PrivateRedis | undefined;
  let store: Store | undefined;

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await redis?.close();
    redis = undefined;
  });

  it('fails every kind of call with StoreUnavailableError, then works again once Redis is back', async () => {
    redis = await startPrivateRedis();
    store = await openStore(`${redis.url}/0?prefix=outage-store:`);
    await store.enqueue({ id: 'job-1', lane: 'lane-1', kind: 'answer', payload: { n: 1 } });
    await store.incrementCounter('user:u1', 60_000);
    await store.appendHistory('chat-1', [{ role: 'user', content: 'hi', at: 1 }], 10);

    await redis.stop('kill');
    const calls: Record<string, () => Promise<unknown>> = {
      // Pipelines and MULTI resolve with per-command errors instead of rejecting: checked too.
      countJobs: () => store!.countJobs(),
      listJobs: () => store!.listJobs({ limit: 10 }),
      incrementCounter: () => store!.incrementCounter('user:u1', 60_000),
      appendHistory: () => store!.appendHistory('chat-1', [{ role: 'assistant', content: 'yo', at: 2 }], 10),
      claimKey: () => store!.claimKey('event:e1', 60_000),
      enqueue: () => store!.enqueue({ id: 'job-2', lane: 'lane-2', kind: 'answer', payload: null }),
      admit: () =>
        store!.admit({
          keys: ['event:e3'],
          ttlMs: 60_000,
          job: { id: 'job-3', lane: 'lane-3', kind: 'answer', payload: null },
        }),
      ping: () => store!.ping(),
    };
    for (const [name, call] of Object.entries(calls)) {
      const started = Date.now();
      const error = await call().then(
        (value) => new Error(`${name} answered ${JSON.stringify(value)} while Redis was down`),
        (caught: unknown) => caught,
      );
      expect(StoreUnavailableError.isInstance(error), `${name}: ${String(error)}`).toBe(true);
      // Fails fast: no offline queue, so the webhook's 503 is immediate.
      expect(Date.now() - started, name).toBeLessThan(2_500);
    }

    await redis.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await store.ping();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    // AOF with fsync always: everything acknowledged before the kill is still there.
    expect(await store.countJobs()).toEqual({ pending: 1, leased: 0, done: 0, dead: 0 });
    expect(await store.incrementCounter('user:u1', 60_000)).toBe(2);
    expect((await store.readHistory('chat-1', 10)).map((message) => message.content)).toEqual(['hi']);
  }, 60_000);

  it('fails writes with StoreUnavailableError while Redis refuses them (out of memory), and works once it writes again', async () => {
    redis = await startPrivateRedis();
    store = await openStore(`${redis.url}/0?prefix=oom-store:`);
    await store.enqueue({ id: 'job-1', lane: 'lane-1', kind: 'answer', payload: { n: 1 } });
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      const writes: Record<string, () => Promise<unknown>> = {
        admit: () =>
          store!.admit({
            keys: ['event:e2'],
            ttlMs: 60_000,
            job: { id: 'job-2', lane: 'lane-2', kind: 'answer', payload: null },
          }),
        enqueue: () => store!.enqueue({ id: 'job-3', lane: 'lane-3', kind: 'answer', payload: null }),
        incrementCounter: () => store!.incrementCounter('user:u1', 60_000),
        putRecord: () => store!.putRecord('traces', 't1', { a: 1 }, 10),
      };
      for (const [name, write] of Object.entries(writes)) {
        const error = await write().then(
          (value) => new Error(`${name} answered ${JSON.stringify(value)} while Redis refused writes`),
          (caught: unknown) => caught,
        );
        expect(StoreUnavailableError.isInstance(error), `${name}: ${String(error)}`).toBe(true);
      }
      // Reads still answer.
      expect(await store.countJobs()).toMatchObject({ pending: 1 });
      await admin.config('SET', 'maxmemory', '0');
      expect(await store.enqueue({ id: 'job-3', lane: 'lane-3', kind: 'answer', payload: null })).toBe(true);
    } finally {
      admin.disconnect();
    }
  }, 60_000);
});

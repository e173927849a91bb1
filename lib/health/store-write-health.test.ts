import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import { type Store, StoreUnavailableError } from '../store/store.js';
import { STORE_WRITE_PROBE_KEY, type StoreWriteFailure, watchStoreWrites } from './store-write-health.js';

const READS = new Set(['getJob', 'listJobs', 'countJobs', 'readHistory', 'getRecord', 'listRecords', 'ping', 'close']);

/**
 * A real SQLite store whose writes can be made to fail as on a full disk (the store's own
 * SQLITE_FULL error is a StoreUnavailableError); test/e2e/store-full.test.ts fills the disk of the
 * real service for real.
 */
async function faultyStore() {
  const store = await openStore('sqlite::memory:');
  let full = false;
  const diskFull = () => new StoreUnavailableError('SQLite admit was not committed: database or disk is full');
  const faulty = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || READS.has(String(property))) return value;
      return (...args: unknown[]) => (full ? Promise.reject(diskFull()) : Reflect.apply(value, target, args));
    },
  });
  return { store: faulty as Store, real: store, setFull: (value: boolean) => (full = value) };
}

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

const admission = (id: string) => ({
  keys: [`event:${id}`],
  ttlMs: 60_000,
  job: { id, lane: 'l', kind: 'answer', payload: {} },
});

describe('watchStoreWrites', () => {
  it('fails the readiness check after a failed write until a write succeeds again, and says so once each way', async () => {
    const { store, real, setFull } = await faultyStore();
    stores.push(real);
    const changes: Array<StoreWriteFailure | null> = [];
    const clock = { now: 1_000 };
    const writes = watchStoreWrites(store, { onChange: (failure) => changes.push(failure), now: () => clock.now });
    await writes.check.check();
    await writes.store.admit(admission('a'));

    setFull(true);
    await expect(writes.store.admit(admission('b'))).rejects.toThrow(/disk is full/);
    await expect(writes.store.completeJob('a', 'me')).rejects.toThrow(/disk is full/);
    expect(writes.failure).toMatchObject({ since: 1_000, error: expect.stringContaining('disk is full') });
    await expect(writes.check.check()).rejects.toThrow(/store writes failing since .*disk is full/);
    // Reads keep working and prove nothing about writes.
    expect(await writes.store.countJobs()).toMatchObject({ pending: 1 });
    await expect(writes.check.check()).rejects.toThrow(/disk is full/);

    setFull(false);
    await writes.store.admit(admission('c'));
    expect(writes.failure).toBeNull();
    await writes.check.check();
    expect(changes).toEqual([expect.objectContaining({ since: 1_000 }), null]);
  });

  it('does not count a write that needs no space, such as a claim that finds nothing, as recovery', async () => {
    const { store, real, setFull } = await faultyStore();
    stores.push(real);
    const writes = watchStoreWrites(store, { probeIntervalMs: 60_000 });
    setFull(true);
    await expect(writes.store.putRecord('traces', 't', {}, 10)).rejects.toThrow();
    setFull(false);
    expect(await writes.store.claimNextJob({ owner: 'me', leaseMs: 1_000 })).toBeNull();
    expect(await writes.store.purgeJobs(0)).toBe(0);
    expect(writes.failure).not.toBeNull();
  });

  it('probes with a write of its own while failing, at most once per interval, so an idle instance recovers', async () => {
    const { store, real, setFull } = await faultyStore();
    stores.push(real);
    const clock = { now: 0 };
    const writes = watchStoreWrites(store, { probeIntervalMs: 1_000, now: () => clock.now });
    setFull(true);
    await expect(writes.store.enqueue({ id: 'x', lane: 'l', kind: 'answer', payload: {} })).rejects.toThrow();
    clock.now = 1_000;
    await expect(writes.check.check()).rejects.toThrow();
    setFull(false);
    clock.now = 1_500;
    // Within the interval: no probe, still failing.
    await expect(writes.check.check()).rejects.toThrow();
    clock.now = 2_000;
    await writes.check.check();
    expect(writes.failure).toBeNull();
    expect(await real.incrementCounter(STORE_WRITE_PROBE_KEY, 60_000, 2_000)).toBe(2);
  });

  it('ignores errors that are not about the store being unwritable', async () => {
    const store = await openStore('sqlite::memory:');
    stores.push(store);
    const writes = watchStoreWrites(store);
    await expect(writes.store.appendHistory('c', [], -1)).rejects.toThrow();
    expect(writes.failure).toBeNull();
    expect(writes.store.kind).toBe('sqlite');
  });
});

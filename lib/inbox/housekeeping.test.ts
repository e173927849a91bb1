import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { startHousekeeping } from './housekeeping.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

describe('startHousekeeping', () => {
  let store: Store;
  afterEach(async () => {
    await store?.close();
  });

  async function finishedJob(id: string, at: number, dead = false) {
    await store.enqueue({ id, lane: id, kind: 'answer', payload: null }, at);
    const job = await store.claimNextJob({ owner: 'w', leaseMs: 1_000, now: at });
    expect(job?.id).toBe(id);
    if (dead) await store.failJob(id, 'w', { error: 'gave up', dead: true, now: at });
    else await store.completeJob(id, 'w', at);
  }

  it('deletes finished jobs older than the retention and keeps recent and unfinished ones', async () => {
    store = await openStore('sqlite::memory:');
    await finishedJob('old-done', T0);
    await finishedJob('old-dead', T0 + 1, true);
    await finishedJob('recent-done', T0 + 71 * HOUR);
    await store.enqueue({ id: 'old-pending', lane: 'p', kind: 'answer', payload: null }, T0);

    const housekeeping = startHousekeeping({
      store,
      log: silentLogger(),
      retentionMs: 72 * HOUR,
      intervalMs: 60_000,
      now: () => T0 + 73 * HOUR,
    });
    // The first pass starts at once; a second call joins it rather than running twice.
    expect(await housekeeping.runOnce()).toBe(2);
    housekeeping.stop();

    expect(await store.getJob('old-done')).toBeNull();
    expect(await store.getJob('old-dead')).toBeNull();
    expect(await store.getJob('recent-done')).not.toBeNull();
    expect(await store.getJob('old-pending')).toMatchObject({ status: 'pending' });
  });

  it('purges a backlog larger than one delete batch completely', async () => {
    store = await openStore('sqlite::memory:');
    for (let index = 0; index < 2_500; index++) await finishedJob(`job-${index}`, T0 + index);
    expect(await store.purgeJobs(T0 + HOUR)).toBe(2_500);
    expect((await store.countJobs()).done).toBe(0);
  });

  it('forgets conversations idle past the memory retention', async () => {
    store = await openStore('sqlite::memory:');
    await store.appendHistory('old-thread', [{ role: 'user', content: 'hi', at: T0 }], 10);
    await store.appendHistory('live-thread', [{ role: 'user', content: 'hi', at: T0 + 29 * 24 * HOUR }], 10);
    const housekeeping = startHousekeeping({
      store,
      log: silentLogger(),
      retentionMs: 72 * HOUR,
      historyRetentionMs: 30 * 24 * HOUR,
      now: () => T0 + 31 * 24 * HOUR,
    });
    await housekeeping.runOnce();
    housekeeping.stop();
    expect(await store.readHistory('old-thread', 10)).toEqual([]);
    expect(await store.readHistory('live-thread', 10)).toHaveLength(1);
  });

  it('survives a store that fails and tries again later', async () => {
    store = await openStore('sqlite::memory:');
    await finishedJob('old', T0);
    let failing = true;
    const flaky: Store = Object.create(store, {
      purgeJobs: {
        value: (before: number) => (failing ? Promise.reject(new Error('store down')) : store.purgeJobs(before)),
      },
    });
    const housekeeping = startHousekeeping({
      store: flaky,
      log: silentLogger(),
      retentionMs: HOUR,
      now: () => T0 + 2 * HOUR,
    });
    expect(await housekeeping.runOnce()).toBe(0);
    failing = false;
    expect(await housekeeping.runOnce()).toBe(1);
    housekeeping.stop();
  });
});

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { createRunStops } from './run-stops.js';

async function storeWithJob(id: string, lane: string) {
  const store = openSqliteStore(':memory:');
  await store.enqueue({ id, lane, kind: 'answer', payload: {} });
  return store;
}

describe('run stops', () => {
  it('aborts a watched run at once when the stop is asked in this process, and frees the lane', async () => {
    const store = await storeWithJob('job-1', 'chat:oc_1');
    const stops = createRunStops({ store, log: silentLogger(), pollMs: 60_000 });
    const watch = await stops.watch('job-1', { lane: 'chat:oc_1', asker: 'ou_a' });
    expect(await stops.activeRun('chat:oc_1')).toEqual({ run: 'job-1', asker: 'ou_a' });
    expect(watch.signal.aborted).toBe(false);
    expect(await stops.request('job-1', 'ou_a', 'button')).toBe('stopping');
    expect(watch.signal.aborted).toBe(true);
    expect(watch.stoppedVia()).toBe('button');
    await watch.close();
    expect(await stops.activeRun('chat:oc_1')).toBeUndefined();
    await store.close();
  });

  it('sees a stop asked by another instance on its next poll, and one asked before it started at once', async () => {
    const store = await storeWithJob('job-2', 'chat:oc_2');
    const here = createRunStops({ store, log: silentLogger(), pollMs: 20 });
    const there = createRunStops({ store, log: silentLogger(), pollMs: 20 });
    const watch = await here.watch('job-2', { lane: 'chat:oc_2', asker: 'ou_a' });
    expect(await there.request('job-2', 'ou_a', 'message')).toBe('stopping');
    await expect.poll(() => watch.stoppedVia(), { timeout: 2_000 }).toBe('message');
    await watch.close();

    // A later attempt of the same run (after a restart) starts already stopped.
    const again = await createRunStops({ store, log: silentLogger() }).watch('job-2', {
      lane: 'chat:oc_2',
      asker: 'ou_a',
    });
    expect(again.signal.aborted).toBe(true);
    await again.close();
    await store.close();
  });

  it('says a finished or unknown run has finished, and records nothing for it', async () => {
    const store = await storeWithJob('job-3', 'chat:oc_3');
    const stops = createRunStops({ store, log: silentLogger() });
    const claimed = await store.claimNextJob({ owner: 'me', leaseMs: 60_000 });
    await store.completeJob(claimed!.id, 'me');
    expect(await stops.request('job-3', 'ou_a', 'button')).toBe('finished');
    expect(await stops.request('no-such-job', 'ou_a', 'button')).toBe('finished');
    expect(await store.getRecord('run-stops', 'job-3')).toBeNull();
    await store.close();
  });
});

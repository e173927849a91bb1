import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import { type HistoryMessage, type Job, type NewJob, type Store, StoreArgumentError } from '../../lib/store/store.js';
import type { ClaimWorkerResult, RaceJobPayload } from './claim-worker.js';

export interface StoreConformanceOptions {
  /** A URL for `openStore` naming an EMPTY store (a new SQLite file, or a fresh Redis db/prefix). */
  createStoreUrl: () => Promise<string> | string;
  /** Removes what the URL names once the test is over. */
  cleanup?: (url: string) => Promise<void> | void;
}

// A realistic clock origin; every method takes `now`, so tests move time instead of sleeping.
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const workerPath = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));
const repositoryRoot = resolve(dirname(workerPath), '../..');

/**
 * The behaviour every Store must have. Each test opens a fresh store with `openStore(url)`, so the
 * same suite runs against SQLite files and Redis.
 *
 * @example
 * describeStoreConformance('sqlite', { createStoreUrl: () => `sqlite:${tmpFile()}`, cleanup: removeFile });
 */
export function describeStoreConformance(name: string, options: StoreConformanceOptions): void {
  describe(`Store conformance: ${name}`, () => {
    let url = '';
    let store: Store;
    const opened: Store[] = [];

    /** Another connection to the same store, as a second process would have. */
    async function openAgain(): Promise<Store> {
      const another = await openStore(url);
      opened.push(another);
      return another;
    }

    beforeEach(async () => {
      url = await options.createStoreUrl();
      store = await openStore(url);
      opened.push(store);
    });

    afterEach(async () => {
      for (const each of opened.splice(0)) await each.close();
      await options.cleanup?.(url);
    });

    function job(id: string, lane: string, kind = 'answer', payload: unknown = { id }): NewJob {
      return { id, lane, kind, payload };
    }

    async function enqueueAll(jobs: readonly NewJob[], start = T0): Promise<void> {
      for (const [index, each] of jobs.entries()) {
        expect(await store.enqueue(each, start + index)).toBe(true);
      }
    }

    function claim(owner: string, now: number, extra: { leaseMs?: number; kinds?: readonly string[] } = {}) {
      return store.claimNextJob({ owner, leaseMs: extra.leaseMs ?? 60_000, now, kinds: extra.kinds });
    }

    describe('dedupe claims', () => {
      it('grants a key to exactly one caller, also across connections', async () => {
        const other = await openAgain();
        expect(await store.claimKey('event:e1', HOUR, T0)).toBe(true);
        expect(await store.claimKey('event:e1', HOUR, T0 + 1)).toBe(false);
        expect(await other.claimKey('event:e1', HOUR, T0 + 2)).toBe(false);
        expect(await other.claimKey('event:e2', HOUR, T0 + 3)).toBe(true);
        expect(await store.claimKey('event:e2', HOUR, T0 + 4)).toBe(false);
      });

      it('gives exactly one winner among concurrent claims', async () => {
        const other = await openAgain();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) => (index % 2 ? store : other).claimKey('message:m1', HOUR, T0)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('lets a claim lapse after its ttl, then holds the new claim', async () => {
        expect(await store.claimKey('k', 60_000, T0)).toBe(true);
        expect(await store.claimKey('k', 60_000, T0 + 59_999)).toBe(false);
        expect(await store.claimKey('k', 60_000, T0 + 60_001)).toBe(true);
        expect(await store.claimKey('k', 60_000, T0 + 100_000)).toBe(false);
        expect(await store.claimKey('k', 60_000, T0 + 120_002)).toBe(true);
      });

      it('releases a claim so a redelivery is processed', async () => {
        expect(await store.claimKey('k', HOUR, T0)).toBe(true);
        await store.releaseKey('k');
        expect(await store.claimKey('k', HOUR, T0 + 1)).toBe(true);
        expect(await store.claimKey('k', HOUR, T0 + 2)).toBe(false);
        await expect(store.releaseKey('never-claimed')).resolves.toBeUndefined();
      });
    });

    describe('admission: dedupe claims and enqueue in one step', () => {
      const admission = (eventId: string, messageId: string, payload: unknown = { eventId }) => ({
        keys: [`event:${eventId}`, `message:${messageId}`],
        ttlMs: HOUR,
        job: job(`message:${messageId}`, 'chat:a', 'answer', payload),
      });

      it('claims every key and enqueues the job', async () => {
        expect(await store.admit(admission('e1', 'm1'), T0)).toEqual({ status: 'enqueued' });
        expect(await store.getJob('message:m1')).toMatchObject({ status: 'pending', payload: { eventId: 'e1' } });
        expect(await store.claimKey('event:e1', HOUR, T0 + 1)).toBe(false);
        expect(await store.claimKey('message:m1', HOUR, T0 + 1)).toBe(false);
      });

      it('stops at the first key already held: the keys before it stay claimed, nothing is enqueued', async () => {
        expect(await store.claimKey('event:e1', HOUR, T0)).toBe(true);
        expect(await store.admit(admission('e1', 'm1'), T0 + 1)).toEqual({ status: 'duplicate', key: 'event:e1' });
        expect(await store.claimKey('message:m1', HOUR, T0 + 2)).toBe(true);
        expect(await store.getJob('message:m1')).toBeNull();

        // One message under a second event id (Feishu does that): the new event id is remembered.
        expect(await store.admit(admission('e2', 'm1'), T0 + 3)).toEqual({ status: 'duplicate', key: 'message:m1' });
        expect(await store.claimKey('event:e2', HOUR, T0 + 4)).toBe(false);
        expect((await store.countJobs()).pending).toBe(0);
      });

      it('admits with no key at all: the job id alone refuses a second admission (how messages are deduped)', async () => {
        const keyless = (eventId: string) => ({ ...admission(eventId, 'm1', { eventId }), keys: [] });
        expect(await store.admit(keyless('e1'), T0)).toEqual({ status: 'enqueued' });
        expect(await store.admit(keyless('e1'), T0 + 1)).toEqual({ status: 'exists' });
        expect(await store.admit(keyless('e2'), T0 + 2)).toEqual({ status: 'exists' });
        expect(await store.getJob('message:m1')).toMatchObject({ payload: { eventId: 'e1' }, createdAt: T0 });
        expect(await store.claimKey('event:e1', HOUR, T0 + 3)).toBe(true);
        expect((await store.countJobs()).pending).toBe(1);
      });

      it('reports a job that outlived its keys as existing and leaves it untouched', async () => {
        expect(await store.admit(admission('e1', 'm1', { n: 1 }), T0)).toEqual({ status: 'enqueued' });
        // Past the dedupe TTL the keys lapse; the job is still there.
        expect(await store.admit(admission('e1', 'm1', { n: 2 }), T0 + HOUR + 1)).toEqual({ status: 'exists' });
        expect(await store.getJob('message:m1')).toMatchObject({ payload: { n: 1 }, createdAt: T0 });
        expect((await store.countJobs()).pending).toBe(1);
      });

      it('queues admitted jobs in admission order within a lane', async () => {
        for (let index = 0; index < 5; index += 1) {
          expect(await store.admit(admission(`e${index}`, `m${index}`), T0 + index)).toEqual({ status: 'enqueued' });
        }
        const order: string[] = [];
        for (let index = 0; index < 5; index += 1) {
          const claimed = await claim('w1', T0 + 10 + index);
          if (claimed === null) throw new Error('nothing to claim');
          order.push(claimed.id);
          expect(await store.completeJob(claimed.id, 'w1', T0 + 10 + index)).toBe(true);
        }
        expect(order).toEqual(['message:m0', 'message:m1', 'message:m2', 'message:m3', 'message:m4']);
      });

      it('admits one message once among concurrent deliveries over several connections', async () => {
        const other = await openAgain();
        // Ten deliveries of one message: five re-deliveries of e1, five under other event ids.
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 ? store : other).admit(admission(index < 5 ? 'e1' : `e-${index}`, 'm1'), T0),
          ),
        );
        expect(results.filter((result) => result.status === 'enqueued')).toHaveLength(1);
        expect(results.filter((result) => result.status === 'duplicate')).toHaveLength(9);
        expect((await store.countJobs()).pending).toBe(1);
      });
    });

    describe('jobs: enqueue and read', () => {
      it('stores a new job as pending with its payload intact', async () => {
        const payload = { text: 'héllo 你好 🎉', nested: { list: [1, 2.5, null, true], empty: {} } };
        expect(await store.enqueue({ id: 'j1', lane: 'chat:a', kind: 'answer', payload }, T0)).toBe(true);
        expect(await store.getJob('j1')).toEqual({
          id: 'j1',
          lane: 'chat:a',
          kind: 'answer',
          payload,
          status: 'pending',
          attempts: 0,
          owner: null,
          leaseUntil: null,
          availableAt: T0,
          checkpoint: null,
          lastError: null,
          createdAt: T0,
          updatedAt: T0,
        } satisfies Job);
        expect(await store.getJob('missing')).toBeNull();
      });

      it('is idempotent on the job id and changes nothing on a duplicate', async () => {
        expect(await store.enqueue(job('j1', 'a', 'answer', { n: 1 }), T0)).toBe(true);
        expect(await store.enqueue(job('j1', 'b', 'notice', { n: 2 }), T0 + 5)).toBe(false);
        const stored = await store.getJob('j1');
        expect(stored).toMatchObject({ lane: 'a', kind: 'answer', payload: { n: 1 }, createdAt: T0 });
        expect((await store.countJobs()).pending).toBe(1);
      });

      it('returns null when there is nothing to claim', async () => {
        expect(await claim('w1', T0)).toBeNull();
      });
    });

    describe('jobs: claiming', () => {
      it('leases a job to its owner and counts the attempt', async () => {
        await enqueueAll([job('j1', 'a')]);
        const claimed = await claim('w1', T0 + 10, { leaseMs: 5_000 });
        expect(claimed).toMatchObject({
          id: 'j1',
          status: 'leased',
          owner: 'w1',
          leaseUntil: T0 + 5_010,
          attempts: 1,
          payload: { id: 'j1' },
        });
        expect(await store.getJob('j1')).toMatchObject({ status: 'leased', owner: 'w1', leaseUntil: T0 + 5_010 });
      });

      it('serves the oldest job first across lanes', async () => {
        await enqueueAll([job('b1', 'b'), job('a1', 'a'), job('c1', 'c')]);
        expect((await claim('w1', T0 + 10))?.id).toBe('b1');
        expect((await claim('w1', T0 + 10))?.id).toBe('a1');
        expect((await claim('w1', T0 + 10))?.id).toBe('c1');
      });

      it('keeps a lane in order: its next job waits until the current one finishes', async () => {
        await enqueueAll([job('a1', 'a'), job('a2', 'a'), job('b1', 'b'), job('a3', 'a')]);
        expect((await claim('w1', T0 + 10))?.id).toBe('a1');
        // Another lane proceeds in parallel…
        expect((await claim('w2', T0 + 10))?.id).toBe('b1');
        // …but lane a belongs to w1 until a1 is done.
        expect(await claim('w3', T0 + 10)).toBeNull();
        expect(await store.completeJob('a1', 'w1', T0 + 20)).toBe(true);
        expect((await claim('w3', T0 + 30))?.id).toBe('a2');
        expect(await claim('w1', T0 + 30)).toBeNull();
        expect(await store.completeJob('a2', 'w3', T0 + 40)).toBe(true);
        expect((await claim('w1', T0 + 50))?.id).toBe('a3');
      });

      it('holds a lane across connections', async () => {
        const other = await openAgain();
        await enqueueAll([job('a1', 'a'), job('a2', 'a')]);
        expect((await claim('w1', T0 + 10))?.id).toBe('a1');
        expect(await other.claimNextJob({ owner: 'w2', leaseMs: 60_000, now: T0 + 10 })).toBeNull();
        expect(await store.completeJob('a1', 'w1', T0 + 20)).toBe(true);
        expect((await other.claimNextJob({ owner: 'w2', leaseMs: 60_000, now: T0 + 30 }))?.id).toBe('a2');
      });

      it('gives each job to exactly one of many concurrent claimers', async () => {
        const other = await openAgain();
        await enqueueAll(Array.from({ length: 10 }, (_, index) => job(`j${index}`, `lane${index}`)));
        const claims = await Promise.all(
          Array.from({ length: 16 }, (_, index) =>
            (index % 2 ? store : other).claimNextJob({ owner: `w${index}`, leaseMs: 60_000, now: T0 + 100 }),
          ),
        );
        const ids = claims.filter((each): each is Job => each !== null).map((each) => each.id);
        expect(ids.sort()).toEqual(Array.from({ length: 10 }, (_, index) => `j${index}`).sort());
      });

      it('filters by kind, and a lane whose head is another kind stays blocked', async () => {
        await enqueueAll([
          job('n1', 'x', 'notice'),
          job('q1', 'y', 'answer'),
          job('n2', 'z', 'notice'),
          job('q2', 'z', 'answer'),
        ]);
        expect((await claim('w1', T0 + 10, { kinds: ['answer'] }))?.id).toBe('q1');
        // q2 is an answer, but n2 is ahead of it in lane z.
        expect(await claim('w1', T0 + 10, { kinds: ['answer'] })).toBeNull();
        expect(await claim('w1', T0 + 10, { kinds: [] })).toBeNull();
        expect((await claim('w2', T0 + 10, { kinds: ['notice', 'other'] }))?.id).toBe('n1');
        expect((await claim('w2', T0 + 10))?.id).toBe('n2');
        expect(await claim('w2', T0 + 10)).toBeNull();
      });
    });

    describe('jobs: leases', () => {
      it('renews a held lease, which keeps others out until the new expiry', async () => {
        await enqueueAll([job('j1', 'a')]);
        await claim('w1', T0 + 10, { leaseMs: 1_000 });
        expect(await store.renewLease('j1', 'w1', 1_000, T0 + 500)).toBe(true);
        expect(await store.getJob('j1')).toMatchObject({ leaseUntil: T0 + 1_500, owner: 'w1' });
        expect(await claim('w2', T0 + 1_200)).toBeNull();
        expect((await claim('w2', T0 + 1_501))?.owner).toBe('w2');
      });

      it('refuses to renew for another owner or an unknown job', async () => {
        await enqueueAll([job('j1', 'a')]);
        await claim('w1', T0 + 10);
        expect(await store.renewLease('j1', 'w2', 1_000, T0 + 20)).toBe(false);
        expect(await store.renewLease('missing', 'w1', 1_000, T0 + 20)).toBe(false);
        expect(await store.getJob('j1')).toMatchObject({ owner: 'w1', leaseUntil: T0 + 60_010 });
      });

      it('renews an expired lease nobody has taken yet', async () => {
        await enqueueAll([job('j1', 'a')]);
        await claim('w1', T0 + 10, { leaseMs: 1_000 });
        expect(await store.renewLease('j1', 'w1', 1_000, T0 + 5_000)).toBe(true);
        expect(await claim('w2', T0 + 5_500)).toBeNull();
      });

      it('lets another owner reclaim an expired lease and locks the old owner out', async () => {
        await enqueueAll([job('j1', 'a'), job('j2', 'a')]);
        await claim('w1', T0 + 10, { leaseMs: 1_000 });
        expect(await claim('w2', T0 + 1_000 - 1)).toBeNull();
        const reclaimed = await claim('w2', T0 + 1_011, { leaseMs: 1_000 });
        expect(reclaimed).toMatchObject({ id: 'j1', owner: 'w2', attempts: 2, leaseUntil: T0 + 2_011 });

        expect(await store.renewLease('j1', 'w1', 1_000, T0 + 1_100)).toBe(false);
        expect(await store.saveCheckpoint('j1', 'w1', { stale: true })).toBe(false);
        expect(await store.completeJob('j1', 'w1', T0 + 1_100)).toBe(false);
        expect(await store.failJob('j1', 'w1', { error: 'late', dead: true, now: T0 + 1_100 })).toBe(false);
        expect(await store.releaseJob('j1', 'w1', T0 + 1_100)).toBe(false);
        expect(await store.getJob('j1')).toMatchObject({
          status: 'leased',
          owner: 'w2',
          attempts: 2,
          checkpoint: null,
        });

        // The lane is still one holder's: j2 waits for w2.
        expect(await claim('w3', T0 + 1_100)).toBeNull();
        expect(await store.completeJob('j1', 'w2', T0 + 1_200)).toBe(true);
        expect((await claim('w3', T0 + 1_300))?.id).toBe('j2');
      });

      it('keeps a checkpoint so a reclaimed job resumes from it', async () => {
        await enqueueAll([job('j1', 'a')]);
        expect(await store.saveCheckpoint('j1', 'w1', { card: 'c0' })).toBe(false);
        await claim('w1', T0 + 10, { leaseMs: 1_000 });
        expect(await store.saveCheckpoint('j1', 'w1', { card: 'c1', sequence: 3 })).toBe(true);
        expect(await store.saveCheckpoint('j1', 'w1', { card: 'c1', sequence: 7, text: '部分 answer' })).toBe(true);
        expect((await store.getJob('j1'))?.checkpoint).toEqual({ card: 'c1', sequence: 7, text: '部分 answer' });
        // w1 dies; w2 picks the job up where w1 left it.
        const resumed = await claim('w2', T0 + 2_000);
        expect(resumed?.checkpoint).toEqual({ card: 'c1', sequence: 7, text: '部分 answer' });
        expect(resumed?.attempts).toBe(2);
      });
    });

    describe('jobs: finishing', () => {
      it('completes a held job once', async () => {
        await enqueueAll([job('j1', 'a')]);
        await claim('w1', T0 + 10);
        expect(await store.completeJob('j1', 'w2', T0 + 20)).toBe(false);
        expect(await store.completeJob('j1', 'w1', T0 + 20)).toBe(true);
        expect(await store.getJob('j1')).toMatchObject({ status: 'done', leaseUntil: null, updatedAt: T0 + 20 });
        expect(await store.completeJob('j1', 'w1', T0 + 30)).toBe(false);
        expect(await claim('w1', T0 + 100_000_000)).toBeNull();
        expect(await store.completeJob('missing', 'w1', T0)).toBe(false);
      });

      it('retries a failed job after its delay, and it still heads its lane meanwhile', async () => {
        await enqueueAll([job('j1', 'a'), job('j2', 'a')]);
        await claim('w1', T0 + 10);
        expect(
          await store.failJob('j1', 'w1', { error: 'model timeout', dead: false, retryInMs: 5_000, now: T0 + 100 }),
        ).toBe(true);
        expect(await store.getJob('j1')).toMatchObject({
          status: 'pending',
          owner: null,
          leaseUntil: null,
          availableAt: T0 + 5_100,
          lastError: 'model timeout',
          attempts: 1,
          updatedAt: T0 + 100,
        });
        expect(await claim('w2', T0 + 5_099)).toBeNull();
        const retried = await claim('w2', T0 + 5_100);
        expect(retried).toMatchObject({ id: 'j1', attempts: 2, owner: 'w2' });
      });

      it('dead-letters a job, moves its lane on, and retryJob brings it back with attempts reset', async () => {
        await enqueueAll([job('j1', 'a'), job('j2', 'b')]);
        await claim('w1', T0 + 10);
        expect(await store.failJob('j1', 'w1', { error: 'bad payload', dead: true, now: T0 + 20 })).toBe(true);
        expect(await store.getJob('j1')).toMatchObject({
          status: 'dead',
          leaseUntil: null,
          lastError: 'bad payload',
          attempts: 1,
        });
        expect((await store.listJobs({ status: 'dead', limit: 10 })).map((each) => each.id)).toEqual(['j1']);
        expect((await claim('w1', T0 + 30))?.id).toBe('j2');
        expect(await claim('w1', T0 + 30)).toBeNull();

        expect(await store.retryJob('j2', T0 + 40)).toBe(false);
        expect(await store.retryJob('missing', T0 + 40)).toBe(false);
        expect(await store.retryJob('j1', T0 + 40)).toBe(true);
        expect(await store.getJob('j1')).toMatchObject({ status: 'pending', attempts: 0, owner: null });
        expect(await store.retryJob('j1', T0 + 41)).toBe(false);
        expect(await store.listJobs({ status: 'dead', limit: 10 })).toEqual([]);
        expect(await claim('w3', T0 + 50)).toMatchObject({ id: 'j1', attempts: 1, owner: 'w3' });
      });

      it('does not give a lane a second holder when a dead job is retried while the lane is busy', async () => {
        await enqueueAll([job('j1', 'a'), job('j2', 'a')]);
        await claim('w1', T0 + 10);
        await store.failJob('j1', 'w1', { error: 'boom', dead: true, now: T0 + 20 });
        expect((await claim('w2', T0 + 30))?.id).toBe('j2');
        expect(await store.retryJob('j1', T0 + 40)).toBe(true);
        expect(await claim('w3', T0 + 50)).toBeNull();
        expect(await store.completeJob('j2', 'w2', T0 + 60)).toBe(true);
        expect((await claim('w3', T0 + 70))?.id).toBe('j1');
      });

      it('releases a held job without counting the attempt', async () => {
        await enqueueAll([job('j1', 'a'), job('j2', 'a')]);
        await claim('w1', T0 + 10);
        expect(await store.releaseJob('j1', 'w2', T0 + 20)).toBe(false);
        expect(await store.releaseJob('j1', 'w1', T0 + 20)).toBe(true);
        expect(await store.getJob('j1')).toMatchObject({
          status: 'pending',
          attempts: 0,
          owner: null,
          leaseUntil: null,
        });
        expect(await store.releaseJob('j1', 'w1', T0 + 21)).toBe(false);
        // Still first in its lane, claimable at once by anyone.
        expect(await claim('w2', T0 + 30)).toMatchObject({ id: 'j1', attempts: 1, owner: 'w2' });
      });
    });

    describe('jobs: listing, counting, purging', () => {
      async function oneOfEach(): Promise<void> {
        await enqueueAll([job('done1', 'a'), job('dead1', 'b'), job('leased1', 'c'), job('pending1', 'd')]);
        await claim('w', T0 + 10);
        await store.completeJob('done1', 'w', T0 + 11);
        await claim('w', T0 + 12);
        await store.failJob('dead1', 'w', { error: 'x', dead: true, now: T0 + 13 });
        await claim('w', T0 + 14);
      }

      it('counts every status, zeros included', async () => {
        expect(await store.countJobs()).toEqual({ pending: 0, leased: 0, done: 0, dead: 0 });
        await oneOfEach();
        expect(await store.countJobs()).toEqual({ pending: 1, leased: 1, done: 1, dead: 1 });
      });

      it('lists newest first, with a limit and a status filter', async () => {
        await oneOfEach();
        const all = await store.listJobs({ limit: 10 });
        expect(all.map((each) => each.id)).toEqual(['pending1', 'leased1', 'dead1', 'done1']);
        expect(all[1]).toMatchObject({ status: 'leased', owner: 'w' });
        expect((await store.listJobs({ limit: 2 })).map((each) => each.id)).toEqual(['pending1', 'leased1']);
        expect(await store.listJobs({ limit: 0 })).toEqual([]);
        expect((await store.listJobs({ status: 'done', limit: 10 })).map((each) => each.id)).toEqual(['done1']);
        expect((await store.listJobs({ status: 'pending', limit: 10 })).map((each) => each.id)).toEqual(['pending1']);
      });

      it('purges finished jobs older than the cut-off and never unfinished ones', async () => {
        await enqueueAll([job('old-done', 'a'), job('old-dead', 'b'), job('new-done', 'c'), job('leased', 'd')]);
        await enqueueAll([job('pending', 'e')], T0 + 5);
        await claim('w', T0 + 10);
        await store.completeJob('old-done', 'w', T0 + 10);
        await claim('w', T0 + 20);
        await store.failJob('old-dead', 'w', { error: 'x', dead: true, now: T0 + 20 });
        await claim('w', T0 + 30);
        await store.completeJob('new-done', 'w', T0 + 30);
        await claim('w', T0 + 40);

        expect(await store.purgeJobs(T0 + 25)).toBe(2);
        expect(await store.getJob('old-done')).toBeNull();
        expect(await store.getJob('old-dead')).toBeNull();
        expect(await store.getJob('new-done')).toMatchObject({ status: 'done' });
        expect(await store.countJobs()).toEqual({ pending: 1, leased: 1, done: 1, dead: 0 });
        expect(await store.purgeJobs(T0 + 25)).toBe(0);
        expect(await store.purgeJobs(T0 + 100 * HOUR)).toBe(1);
        expect(await store.countJobs()).toEqual({ pending: 1, leased: 1, done: 0, dead: 0 });
        expect((await store.listJobs({ limit: 10 })).map((each) => each.id).sort()).toEqual(['leased', 'pending']);
      });
    });

    describe('history', () => {
      const say = (index: number, extra: Partial<HistoryMessage> = {}): HistoryMessage => ({
        role: index % 2 ? 'assistant' : 'user',
        content: `message ${index}`,
        at: T0 + index,
        ...extra,
      });

      it('reads back the newest messages, oldest first, with optional fields kept', async () => {
        const first = say(1, { author: 'ou_alice', messageId: 'om_1' });
        await store.appendHistory('chat:a', [first, say(2), say(3, { author: 'Bob' })], 50);
        expect(await store.readHistory('chat:a', 10)).toEqual([first, say(2), say(3, { author: 'Bob' })]);
        expect(await store.readHistory('chat:a', 2)).toEqual([say(2), say(3, { author: 'Bob' })]);
        expect(await store.readHistory('chat:a', 0)).toEqual([]);
      });

      it('keeps only the newest maxMessages across appends', async () => {
        await store.appendHistory('c', [say(1), say(2), say(3)], 5);
        await store.appendHistory('c', [say(4), say(5), say(6), say(7)], 5);
        expect((await store.readHistory('c', 100)).map((each) => each.content)).toEqual(
          [3, 4, 5, 6, 7].map((index) => `message ${index}`),
        );
        await store.appendHistory(
          'c',
          Array.from({ length: 10 }, (_, index) => say(10 + index)),
          4,
        );
        expect((await store.readHistory('c', 100)).map((each) => each.at)).toEqual([16, 17, 18, 19].map((i) => T0 + i));
      });

      it('keeps conversations apart and clears one without touching another', async () => {
        await store.appendHistory('a', [say(1)], 10);
        await store.appendHistory('b', [say(2)], 10);
        await store.appendHistory('a', [say(3)], 10);
        expect((await store.readHistory('a', 10)).map((each) => each.at)).toEqual([T0 + 1, T0 + 3]);
        await store.clearHistory('a');
        expect(await store.readHistory('a', 10)).toEqual([]);
        expect(await store.readHistory('b', 10)).toEqual([say(2)]);
        expect(await store.readHistory('never', 10)).toEqual([]);
        await expect(store.clearHistory('never')).resolves.toBeUndefined();
        await store.appendHistory('a', [], 10);
        expect(await store.readHistory('a', 10)).toEqual([]);
      });

      it('purges whole conversations that went quiet, and keeps those still talking', async () => {
        await store.appendHistory('quiet', [say(1), say(2)], 10);
        await store.appendHistory('busy', [say(1)], 10);
        await store.appendHistory('busy', [say(5 * HOUR)], 10);
        await store.appendHistory('cleared', [say(1)], 10);
        await store.clearHistory('cleared');
        expect(await store.purgeHistory(T0 + HOUR)).toBe(1);
        expect(await store.readHistory('quiet', 10)).toEqual([]);
        expect((await store.readHistory('busy', 10)).map((each) => each.at)).toEqual([T0 + 1, T0 + 5 * HOUR]);
        expect(await store.purgeHistory(T0 + HOUR)).toBe(0);
        // A purged conversation starts afresh when someone speaks again.
        await store.appendHistory('quiet', [say(6 * HOUR)], 10);
        expect(await store.readHistory('quiet', 10)).toEqual([say(6 * HOUR)]);
      });
    });

    describe('history by prefix', () => {
      const line = (at: number): HistoryMessage => ({ role: 'user', content: `at ${at}`, at: T0 + at });

      it('clears every conversation whose key starts with the prefix, and nothing else', async () => {
        await store.appendHistory('chat:oc_a', [line(1)], 10);
        await store.appendHistory('chat:oc_a:thread:omt_1', [line(2)], 10);
        await store.appendHistory('chat:oc_a:thread:omt_2', [line(3)], 10);
        await store.appendHistory('chat:oc_ab', [line(4)], 10);
        await store.appendHistory('chat:oc_*', [line(5)], 10);
        expect(await store.clearHistoryWithPrefix('chat:oc_a:')).toBe(2);
        expect(await store.readHistory('chat:oc_a:thread:omt_1', 10)).toEqual([]);
        expect(await store.readHistory('chat:oc_a', 10)).toEqual([line(1)]);
        expect(await store.readHistory('chat:oc_ab', 10)).toEqual([line(4)]);
        // A glob character in the prefix is a character, not a pattern.
        expect(await store.clearHistoryWithPrefix('chat:oc_*')).toBe(1);
        expect(await store.readHistory('chat:oc_ab', 10)).toEqual([line(4)]);
        expect(await store.clearHistoryWithPrefix('nothing:')).toBe(0);
        // A cleared conversation is gone from the idle purge too.
        expect(await store.purgeHistory(T0 + HOUR)).toBe(2);
      });
    });

    describe('chat settings', () => {
      const version = (chatId: string, number: number, settings: Record<string, unknown>, at = T0 + number) => ({
        chatId,
        version: number,
        settings,
        changedBy: 'ou_admin',
        change: `change ${number}`,
        at,
      });

      it('saves versions one after another and reads them newest first', async () => {
        expect(await store.chatSettingsHistory('oc_1', 10)).toEqual([]);
        expect(await store.saveChatSettings(version('oc_1', 1, { persona: 'release assistant' }), 10)).toBe(true);
        expect(
          await store.saveChatSettings(version('oc_1', 2, { persona: 'release assistant', model: 'm2' }), 10),
        ).toBe(true);
        const history = await store.chatSettingsHistory('oc_1', 10);
        expect(history).toEqual([
          version('oc_1', 2, { persona: 'release assistant', model: 'm2' }),
          version('oc_1', 1, { persona: 'release assistant' }),
        ]);
        expect(await store.chatSettingsHistory('oc_1', 1)).toEqual([history[0]]);
        expect(await store.chatSettingsHistory('oc_1', 0)).toEqual([]);
      });

      it('refuses a version that is not exactly the next one (a concurrent change won)', async () => {
        expect(await store.saveChatSettings(version('oc_1', 2, {}), 10)).toBe(false);
        expect(await store.saveChatSettings(version('oc_1', 1, { a: 1 }), 10)).toBe(true);
        expect(await store.saveChatSettings(version('oc_1', 1, { a: 2 }), 10)).toBe(false);
        expect(await store.saveChatSettings(version('oc_1', 3, { a: 3 }), 10)).toBe(false);
        expect((await store.chatSettingsHistory('oc_1', 10)).map((each) => each.settings)).toEqual([{ a: 1 }]);
      });

      it('lets exactly one of two simultaneous saves of the same version win', async () => {
        const other = await openAgain();
        const results = await Promise.all([
          store.saveChatSettings(version('oc_race', 1, { by: 'first' }), 10),
          other.saveChatSettings(version('oc_race', 1, { by: 'second' }), 10),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.chatSettingsHistory('oc_race', 10)).toHaveLength(1);
      });

      it('keeps the newest keepVersions versions', async () => {
        for (let number = 1; number <= 5; number += 1) {
          expect(await store.saveChatSettings(version('oc_1', number, { number }), 3)).toBe(true);
        }
        expect((await store.chatSettingsHistory('oc_1', 10)).map((each) => each.version)).toEqual([5, 4, 3]);
        expect(await store.saveChatSettings(version('oc_1', 6, { number: 6 }), 3)).toBe(true);
      });

      it('lists the newest version of each chat, most recently changed first, and deletes one chat', async () => {
        await store.saveChatSettings(version('oc_a', 1, { a: 1 }, T0 + 10), 10);
        await store.saveChatSettings(version('oc_b', 1, { b: 1 }, T0 + 20), 10);
        await store.saveChatSettings(version('oc_a', 2, { a: 2 }, T0 + 30), 10);
        expect(await store.listChatSettings('default', 10)).toEqual([
          version('oc_a', 2, { a: 2 }, T0 + 30),
          version('oc_b', 1, { b: 1 }, T0 + 20),
        ]);
        expect(await store.listChatSettings('default', 1)).toEqual([version('oc_a', 2, { a: 2 }, T0 + 30)]);
        expect(await store.listChatSettings('default', 0)).toEqual([]);
        await store.deleteChatSettings('oc_a');
        expect(await store.chatSettingsHistory('oc_a', 10)).toEqual([]);
        expect(await store.listChatSettings('default', 10)).toEqual([version('oc_b', 1, { b: 1 }, T0 + 20)]);
        // Deleted settings start again from version 1.
        expect(await store.saveChatSettings(version('oc_a', 1, { again: true }), 10)).toBe(true);
        await expect(store.deleteChatSettings('never')).resolves.toBeUndefined();
      });

      it("lists one app's chats, the limit counting only that app's, however many another app changed since", async () => {
        // The default app's chats carry no prefix; alpha-2's keys start like alpha's.
        await store.saveChatSettings(version('oc_d1', 1, { d: 1 }, T0 + 1), 10);
        await store.saveChatSettings(version('app:beta:oc_b1', 1, { b: 1 }, T0 + 2), 10);
        await store.saveChatSettings(version('oc_d2', 1, { d: 2 }, T0 + 3), 10);
        await store.saveChatSettings(version('app:alpha-2:oc_x', 1, { x: 1 }, T0 + 4), 10);
        for (let index = 0; index < 5; index += 1) {
          await store.saveChatSettings(version(`app:alpha:oc_a${index}`, 1, { index }, T0 + 10 + index), 10);
        }
        await store.saveChatSettings(version('app:alpha:oc_a0', 2, { index: 0, again: true }, T0 + 20), 10);

        expect(await store.listChatSettings('default', 3)).toEqual([
          version('oc_d2', 1, { d: 2 }, T0 + 3),
          version('oc_d1', 1, { d: 1 }, T0 + 1),
        ]);
        expect(await store.listChatSettings('beta', 3)).toEqual([version('app:beta:oc_b1', 1, { b: 1 }, T0 + 2)]);
        expect(await store.listChatSettings('alpha-2', 3)).toEqual([version('app:alpha-2:oc_x', 1, { x: 1 }, T0 + 4)]);
        expect(await store.listChatSettings('alpha', 3)).toEqual([
          version('app:alpha:oc_a0', 2, { index: 0, again: true }, T0 + 20),
          version('app:alpha:oc_a4', 1, { index: 4 }, T0 + 14),
          version('app:alpha:oc_a3', 1, { index: 3 }, T0 + 13),
        ]);
        expect(await store.listChatSettings('gamma', 3)).toEqual([]);

        await store.deleteChatSettings('app:beta:oc_b1');
        expect(await store.listChatSettings('beta', 3)).toEqual([]);
        expect(await store.listChatSettings('default', 3)).toHaveLength(2);
      });

      it('refuses bad versions, settings and bounds with the store argument error', async () => {
        const bad = [
          () => store.saveChatSettings(version('', 1, {}), 10),
          () => store.saveChatSettings(version('oc_1', 0, {}), 10),
          () => store.saveChatSettings(version('oc_1', 1.5, {}), 10),
          () => store.saveChatSettings(version('oc_1', 1, {}), 0),
          () =>
            store.saveChatSettings(
              { ...version('oc_1', 1, {}), settings: [] as unknown as Record<string, unknown> },
              10,
            ),
          () => store.saveChatSettings({ ...version('oc_1', 1, {}), changedBy: '' }, 10),
          () => store.chatSettingsHistory('oc_1', -1),
          () => store.listChatSettings('default', -1),
          () => store.listChatSettings('', 10),
          () => store.clearHistoryWithPrefix(''),
        ];
        for (const call of bad) {
          const error = await call().then(
            () => undefined,
            (failure: unknown) => failure,
          );
          expect(StoreArgumentError.isInstance(error)).toBe(true);
        }
        expect(await store.chatSettingsHistory('oc_1', 10)).toEqual([]);
      });
    });

    describe('counters', () => {
      const MINUTE = 60_000;
      const windowStart = Math.floor(T0 / MINUTE) * MINUTE;

      it('counts within a fixed window and starts again in the next', async () => {
        expect(await store.incrementCounter('user:u1', MINUTE, windowStart)).toBe(1);
        expect(await store.incrementCounter('user:u1', MINUTE, windowStart + 30_000)).toBe(2);
        expect(await store.incrementCounter('user:u1', MINUTE, windowStart + MINUTE - 1)).toBe(3);
        expect(await store.incrementCounter('user:u1', MINUTE, windowStart + MINUTE)).toBe(1);
        expect(await store.incrementCounter('user:u1', MINUTE, windowStart + MINUTE + 5)).toBe(2);
        expect(await store.incrementCounter('user:u1', MINUTE, windowStart + 3 * MINUTE)).toBe(1);
      });

      it('keeps keys apart', async () => {
        expect(await store.incrementCounter('a', MINUTE, T0)).toBe(1);
        expect(await store.incrementCounter('b', MINUTE, T0)).toBe(1);
        expect(await store.incrementCounter('a', MINUTE, T0)).toBe(2);
        expect(await store.incrementCounter('chat:c', 1_000, T0)).toBe(1);
      });

      it('loses no increment under concurrency', async () => {
        const other = await openAgain();
        const counts = await Promise.all(
          Array.from({ length: 25 }, (_, index) => (index % 2 ? store : other).incrementCounter('hot', MINUTE, T0)),
        );
        expect(counts.sort((left, right) => left - right)).toEqual(Array.from({ length: 25 }, (_, index) => index + 1));
      });
    });

    describe('totals', () => {
      const DAY = 24 * HOUR;

      it('adds to a total until it expires, then starts again from the amount', async () => {
        expect(await store.addToTotal('spend:c1:2026-12-07', 1_500, DAY, T0)).toBe(1_500);
        expect(await store.addToTotal('spend:c1:2026-12-07', 250, DAY, T0 + HOUR)).toBe(1_750);
        expect(await store.addToTotal('spend:c1:2026-12-07', 0, DAY, T0 + DAY - 1)).toBe(1_750);
        // The expiry counts from the first addition, not the latest.
        expect(await store.addToTotal('spend:c1:2026-12-07', 10, DAY, T0 + DAY)).toBe(10);
      });

      it('reads an unknown total as 0, and keeps totals apart from each other and from counters', async () => {
        expect(await store.addToTotal('never', 0, DAY, T0)).toBe(0);
        expect(await store.addToTotal('a', 7, DAY, T0)).toBe(7);
        expect(await store.addToTotal('b', 3, DAY, T0)).toBe(3);
        expect(await store.incrementCounter('a', 60_000, T0)).toBe(1);
        expect(await store.addToTotal('a', 0, DAY, T0)).toBe(7);
      });

      it('loses no addition under concurrency', async () => {
        const other = await openAgain();
        await Promise.all(
          Array.from({ length: 20 }, (_, index) => (index % 2 ? store : other).addToTotal('hot', index + 1, DAY, T0)),
        );
        expect(await store.addToTotal('hot', 0, DAY, T0)).toBe(210);
      });
    });

    describe('tallies', () => {
      const DAY = 24 * HOUR;
      const chats = 'spend:default:2026-12-07:chat';

      it('adds to members and lists them biggest first, each until its own expiry', async () => {
        await store.addToTallies(
          [
            { tally: chats, member: 'oc_a', amount: 1_500 },
            { tally: chats, member: 'oc_b', amount: 300 },
            { tally: 'spend:default:2026-12-07:model', member: 'gpt-4o', amount: 1_800 },
          ],
          DAY,
          T0,
        );
        await store.addToTallies([{ tally: chats, member: 'oc_b', amount: 1_250 }], DAY, T0 + HOUR);
        await store.addToTallies([{ tally: chats, member: '群聊 c', amount: 7 }], DAY, T0 + 2 * HOUR);
        expect(await store.readTally(chats, 10, T0 + 2 * HOUR)).toEqual([
          { member: 'oc_b', total: 1_550 },
          { member: 'oc_a', total: 1_500 },
          { member: '群聊 c', total: 7 },
        ]);
        expect(await store.readTally(chats, 1, T0 + 2 * HOUR)).toEqual([{ member: 'oc_b', total: 1_550 }]);
        expect(await store.readTally('spend:default:2026-12-07:model', 10, T0)).toEqual([
          { member: 'gpt-4o', total: 1_800 },
        ]);
        // A day after their first addition oc_a and oc_b are gone; the later member is not.
        expect(await store.readTally(chats, 10, T0 + DAY)).toEqual([{ member: '群聊 c', total: 7 }]);
        await store.addToTallies([{ tally: chats, member: 'oc_a', amount: 5 }], DAY, T0 + DAY);
        expect(await store.readTally(chats, 10, T0 + DAY)).toEqual([
          { member: '群聊 c', total: 7 },
          { member: 'oc_a', total: 5 },
        ]);
      });

      it('keeps tallies apart from each other, from totals and from a name that starts the same', async () => {
        await store.addToTallies([{ tally: 'spend:x', member: 'm', amount: 2 }], DAY, T0);
        await store.addToTallies([{ tally: 'spend:x:y', member: 'm', amount: 3 }], DAY, T0);
        expect(await store.addToTotal('spend:x', 0, DAY, T0)).toBe(0);
        expect(await store.readTally('spend:x', 10, T0)).toEqual([{ member: 'm', total: 2 }]);
        expect(await store.readTally('spend', 10, T0)).toEqual([]);
        expect(await store.readTally('never', 10, T0)).toEqual([]);
        expect(await store.readTally('spend:x', 0, T0)).toEqual([]);
      });

      it('refuses a bad addition before writing any', async () => {
        const bad = [
          () =>
            store.addToTallies(
              [
                { tally: 't', member: 'ok', amount: 1 },
                { tally: 't', member: 'bad', amount: 1.5 },
              ],
              DAY,
              T0,
            ),
          () => store.addToTallies([{ tally: 't', member: '', amount: 1 }], DAY, T0),
          () => store.addToTallies([{ tally: 't\u001fx', member: 'm', amount: 1 }], DAY, T0),
          () => store.addToTallies([{ tally: 't', member: 'm', amount: 1 }], 0, T0),
          () => store.readTally('t', -1, T0),
        ];
        for (const call of bad) {
          const error = await call().then(
            () => undefined,
            (failure: unknown) => failure,
          );
          expect(StoreArgumentError.isInstance(error)).toBe(true);
        }
        expect(await store.readTally('t', 10, T0)).toEqual([]);
      });

      it('loses no addition under concurrency', async () => {
        const other = await openAgain();
        await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 ? store : other).addToTallies([{ tally: 'hot', member: 'm', amount: index + 1 }], DAY, T0),
          ),
        );
        expect(await store.readTally('hot', 10, T0)).toEqual([{ member: 'm', total: 210 }]);
      });
    });

    describe('records', () => {
      it('upserts and reads records by collection and id', async () => {
        const trace = { steps: [{ name: 'model', ms: 12.5 }], text: '结果' };
        await store.putRecord('traces', 't1', trace, 10);
        expect(await store.getRecord('traces', 't1')).toEqual(trace);
        await store.putRecord('traces', 't1', { replaced: true }, 10);
        expect(await store.getRecord('traces', 't1')).toEqual({ replaced: true });
        expect(await store.getRecord('traces', 'missing')).toBeNull();
        expect(await store.getRecord('other', 't1')).toBeNull();
        expect(await store.listRecords('traces', 10)).toEqual([{ replaced: true }]);
      });

      it('lists most recently written first, an upsert counting as a write', async () => {
        for (const id of ['r1', 'r2', 'r3']) await store.putRecord('c', id, { id }, 10);
        await store.putRecord('c', 'r1', { id: 'r1', version: 2 }, 10);
        expect(await store.listRecords('c', 10)).toEqual([{ id: 'r1', version: 2 }, { id: 'r3' }, { id: 'r2' }]);
        expect(await store.listRecords('c', 2)).toEqual([{ id: 'r1', version: 2 }, { id: 'r3' }]);
        expect(await store.listRecords('c', 0)).toEqual([]);
        expect(await store.listRecords('empty', 10)).toEqual([]);
      });

      it('keeps only the maxRecords most recently written of a collection', async () => {
        for (let index = 0; index < 8; index += 1) await store.putRecord('c', `r${index}`, index, 5);
        await store.putRecord('d', 'keep', 'other collection', 5);
        // r3 is rewritten, so r4 (not r3) is the oldest write when r8 arrives.
        await store.putRecord('c', 'r3', 33, 5);
        await store.putRecord('c', 'r8', 8, 5);
        expect(await store.listRecords('c', 100)).toEqual([8, 33, 7, 6, 5]);
        expect(await store.getRecord('c', 'r4')).toBeNull();
        expect(await store.getRecord('c', 'r0')).toBeNull();
        expect(await store.getRecord('d', 'keep')).toBe('other collection');
      });
    });

    describe('schedules', () => {
      const MINUTE = 60_000;
      function schedule(id: string, scope: string, nextRunAt: number, payload: unknown = { text: id }) {
        return { id, scope, nextRunAt, payload };
      }
      const ran = (dueAt: number, at = dueAt) => ({ dueAt, at, outcome: 'ran' as const, jobId: `job-${dueAt}` });

      it('adds, reads and lists a scope soonest first, refusing a taken id and a full scope', async () => {
        expect(await store.addSchedule(schedule('s2', 'chat:a', T0 + 2 * HOUR), 3, T0)).toBe('added');
        expect(await store.addSchedule(schedule('s1', 'chat:a', T0 + HOUR, { text: '提醒' }), 3, T0)).toBe('added');
        expect(await store.addSchedule(schedule('s1', 'chat:a', T0), 3, T0)).toBe('exists');
        expect(await store.addSchedule(schedule('s3', 'chat:b', T0), 3, T0)).toBe('added');
        expect(await store.addSchedule(schedule('s4', 'chat:a', T0), 3, T0)).toBe('added');
        expect(await store.addSchedule(schedule('s5', 'chat:a', T0), 3, T0)).toBe('full');
        expect(await store.getSchedule('s1')).toEqual({
          ...schedule('s1', 'chat:a', T0 + HOUR, { text: '提醒' }),
          owner: null,
          leaseUntil: null,
          runs: [],
          createdAt: T0,
          updatedAt: T0,
        });
        expect(await store.getSchedule('s5')).toBeNull();
        expect((await store.listSchedules('chat:a', 10)).map((each) => each.id)).toEqual(['s4', 's1', 's2']);
        expect((await store.listSchedules('chat:a', 2)).map((each) => each.id)).toEqual(['s4', 's1']);
        expect(await store.listSchedules('chat:none', 10)).toEqual([]);
      });

      it('cancels only within its scope, and a cancelled schedule never comes due', async () => {
        await store.addSchedule(schedule('s1', 'chat:a', T0), 3, T0);
        expect(await store.cancelSchedule('chat:b', 's1')).toBe(false);
        expect(await store.cancelSchedule('chat:a', 's1')).toBe(true);
        expect(await store.cancelSchedule('chat:a', 's1')).toBe(false);
        expect(await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now: T0 + HOUR })).toBeNull();
        expect(await store.listSchedules('chat:a', 10)).toEqual([]);
        // The freed place counts again.
        expect(await store.addSchedule(schedule('s2', 'chat:a', T0), 1, T0)).toBe('added');
      });

      it('claims a schedule once it is due, soonest first, one holder at a time', async () => {
        await store.addSchedule(schedule('late', 'chat:a', T0 + 2 * MINUTE), 5, T0);
        await store.addSchedule(schedule('early', 'chat:b', T0 + MINUTE), 5, T0);
        expect(await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now: T0 })).toBeNull();
        const first = await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now: T0 + 3 * MINUTE });
        expect(first).toMatchObject({ id: 'early', owner: 'w1', leaseUntil: T0 + 4 * MINUTE });
        const second = await store.claimDueSchedule({ owner: 'w2', leaseMs: MINUTE, now: T0 + 3 * MINUTE });
        expect(second).toMatchObject({ id: 'late', owner: 'w2' });
        expect(await store.claimDueSchedule({ owner: 'w3', leaseMs: MINUTE, now: T0 + 3 * MINUTE })).toBeNull();
      });

      it('gives a schedule whose holder died to the next claimer once the lease ends', async () => {
        await store.addSchedule(schedule('s1', 'chat:a', T0), 5, T0);
        expect(await store.claimDueSchedule({ owner: 'dead', leaseMs: MINUTE, now: T0 })).toMatchObject({ id: 's1' });
        expect(await store.claimDueSchedule({ owner: 'w2', leaseMs: MINUTE, now: T0 + MINUTE - 1 })).toBeNull();
        const taken = await store.claimDueSchedule({ owner: 'w2', leaseMs: MINUTE, now: T0 + MINUTE });
        expect(taken).toMatchObject({ id: 's1', owner: 'w2', nextRunAt: T0 });
        // The dead holder cannot finish it any more.
        const finish = { run: ran(T0), nextRunAt: T0 + HOUR, maxRuns: 5, now: T0 + MINUTE };
        expect(await store.finishScheduleRun('s1', 'dead', finish)).toBe(false);
        expect(await store.finishScheduleRun('s1', 'w2', finish)).toBe(true);
      });

      it('moves a finished run to its next time and keeps the newest maxRuns runs', async () => {
        await store.addSchedule(schedule('s1', 'chat:a', T0), 5, T0);
        for (let index = 0; index < 4; index += 1) {
          const now = T0 + index * HOUR;
          const held = await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now });
          expect(held).toMatchObject({ id: 's1', nextRunAt: now });
          const next = { run: ran(now, now + 5), nextRunAt: now + HOUR, maxRuns: 2, now: now + 5 };
          expect(await store.finishScheduleRun('s1', 'w1', next)).toBe(true);
          expect(await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now: now + 10 })).toBeNull();
        }
        const stored = await store.getSchedule('s1');
        expect(stored).toMatchObject({ nextRunAt: T0 + 4 * HOUR, owner: null, leaseUntil: null });
        expect(stored?.runs).toEqual([ran(T0 + 3 * HOUR, T0 + 3 * HOUR + 5), ran(T0 + 2 * HOUR, T0 + 2 * HOUR + 5)]);
        expect((await store.listSchedules('chat:a', 5))[0]?.nextRunAt).toBe(T0 + 4 * HOUR);
      });

      it('deletes a schedule whose run has no next time, and refuses a finish after a cancel', async () => {
        await store.addSchedule(schedule('once', 'chat:a', T0), 1, T0);
        await store.addSchedule(schedule('gone', 'chat:b', T0 + 1), 1, T0);
        await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now: T0 });
        const skipped = { dueAt: T0, at: T0, outcome: 'skipped' as const };
        expect(await store.finishScheduleRun('once', 'w1', { run: skipped, nextRunAt: null, maxRuns: 5 })).toBe(true);
        expect(await store.getSchedule('once')).toBeNull();
        expect(await store.listSchedules('chat:a', 5)).toEqual([]);
        expect(await store.addSchedule(schedule('again', 'chat:a', T0), 1, T0)).toBe('added');

        await store.claimDueSchedule({ owner: 'w1', leaseMs: MINUTE, now: T0 + 1 });
        expect(await store.cancelSchedule('chat:b', 'gone')).toBe(true);
        expect(await store.finishScheduleRun('gone', 'w1', { run: ran(T0), nextRunAt: T0 + HOUR, maxRuns: 5 })).toBe(
          false,
        );
        expect(await store.getSchedule('gone')).toBeNull();
      });

      it('gives a due schedule to exactly one of several connections claiming at once', async () => {
        const others = await Promise.all([openAgain(), openAgain(), openAgain()]);
        await store.addSchedule(schedule('s1', 'chat:a', T0), 5, T0);
        const claims = await Promise.all(
          [store, ...others].map((each, index) =>
            each.claimDueSchedule({ owner: `w${index}`, leaseMs: MINUTE, now: T0 + 1 }),
          ),
        );
        expect(claims.filter((claim) => claim !== null)).toHaveLength(1);
      });
    });

    describe('bad arguments', () => {
      const circular: { self?: unknown } = {};
      circular.self = circular;
      const message = (index: number, extra: Record<string, unknown>) =>
        ({ role: 'user', content: `m${index}`, at: T0 + index, ...extra }) as unknown as HistoryMessage;
      // Each call is refused before anything is read or written, by every store alike.
      const refusals: [name: string, call: (each: Store) => Promise<unknown>, type: ErrorConstructor, text: RegExp][] =
        [
          ['claimKey: empty key', (each) => each.claimKey('', HOUR, T0), TypeError, /^key must be a non-empty string/],
          ['claimKey: ttl 0', (each) => each.claimKey('k', 0, T0), RangeError, /^ttlMs must be a positive number/],
          ['claimKey: ttl NaN', (each) => each.claimKey('k', Number.NaN, T0), RangeError, /^ttlMs /],
          [
            'admit: an empty key after a good one',
            (each) => each.admit({ keys: ['event:ok', ''], ttlMs: HOUR, job: job('j1', 'a') }, T0),
            TypeError,
            /^keys\[1\] must be a non-empty string/,
          ],
          [
            'admit: negative ttl',
            (each) => each.admit({ keys: ['event:ok'], ttlMs: -1, job: job('j1', 'a') }, T0),
            RangeError,
            /^ttlMs /,
          ],
          [
            'admit: payload JSON cannot hold',
            (each) =>
              each.admit({ keys: ['event:ok'], ttlMs: HOUR, job: { ...job('j1', 'a'), payload: undefined } }, T0),
            TypeError,
            /^job\.payload must be JSON-serialisable/,
          ],
          ['enqueue: empty id', (each) => each.enqueue(job('', 'a'), T0), TypeError, /^job\.id must be/],
          ['enqueue: empty lane', (each) => each.enqueue(job('j1', ''), T0), TypeError, /^job\.lane must be/],
          ['enqueue: empty kind', (each) => each.enqueue(job('j1', 'a', ''), T0), TypeError, /^job\.kind must be/],
          [
            'enqueue: a function as payload',
            (each) =>
              each.enqueue(
                job('j1', 'a', 'answer', () => 1),
                T0,
              ),
            TypeError,
            /^job\.payload must be JSON-serialisable/,
          ],
          [
            'enqueue: a cyclic payload',
            (each) => each.enqueue(job('j1', 'a', 'answer', circular), T0),
            TypeError,
            /^job\.payload must be JSON-serialisable/,
          ],
          [
            'enqueue: a BigInt payload',
            (each) => each.enqueue(job('j1', 'a', 'answer', { n: 1n }), T0),
            TypeError,
            /^job\.payload must be JSON-serialisable/,
          ],
          [
            'addSchedule: empty scope',
            (each) => each.addSchedule({ id: 's1', scope: '', nextRunAt: T0, payload: {} }, 5, T0),
            TypeError,
            /^schedule\.scope must be/,
          ],
          [
            'addSchedule: limit 0',
            (each) => each.addSchedule({ id: 's1', scope: 'chat:a', nextRunAt: T0, payload: {} }, 0, T0),
            RangeError,
            /^maxPerScope /,
          ],
          [
            'addSchedule: a time that is not one',
            (each) => each.addSchedule({ id: 's1', scope: 'chat:a', nextRunAt: Number.NaN, payload: {} }, 5, T0),
            RangeError,
            /^schedule\.nextRunAt must be a time/,
          ],
          [
            'claimDueSchedule: lease 0',
            (each) => each.claimDueSchedule({ owner: 'w', leaseMs: 0, now: T0 }),
            RangeError,
            /^leaseMs /,
          ],
          [
            'finishScheduleRun: maxRuns 0',
            (each) =>
              each.finishScheduleRun('s1', 'w', {
                run: { dueAt: T0, at: T0, outcome: 'ran' },
                nextRunAt: null,
                maxRuns: 0,
              }),
            RangeError,
            /^maxRuns /,
          ],
          [
            'claimNextJob: empty owner',
            (each) => each.claimNextJob({ owner: '', leaseMs: 1_000, now: T0 }),
            TypeError,
            /^owner /,
          ],
          [
            'claimNextJob: lease 0',
            (each) => each.claimNextJob({ owner: 'w', leaseMs: 0, now: T0 }),
            RangeError,
            /^leaseMs /,
          ],
          ['renewLease: negative lease', (each) => each.renewLease('held', 'w', -5, T0), RangeError, /^leaseMs /],
          [
            'saveCheckpoint: a function',
            (each) => each.saveCheckpoint('held', 'w', () => 1),
            TypeError,
            /^checkpoint must be JSON-serialisable/,
          ],
          [
            'failJob: negative retry delay',
            (each) => each.failJob('held', 'w', { error: 'x', dead: false, retryInMs: -1, now: T0 }),
            RangeError,
            /^retryInMs /,
          ],
          [
            'failJob: NaN retry delay, even when dead',
            (each) => each.failJob('held', 'w', { error: 'x', dead: true, retryInMs: Number.NaN, now: T0 }),
            RangeError,
            /^retryInMs /,
          ],
          ['listJobs: negative limit', (each) => each.listJobs({ limit: -1 }), RangeError, /^limit /],
          ['listJobs: fractional limit', (each) => each.listJobs({ limit: 1.5 }), RangeError, /^limit /],
          [
            'listJobs: unknown status',
            (each) => each.listJobs({ status: 'gone' as 'done', limit: 10 }),
            TypeError,
            /^status must be one of/,
          ],
          ['purgeJobs: NaN', (each) => each.purgeJobs(Number.NaN), RangeError, /^before must be a time/],
          ['purgeHistory: Infinity', (each) => each.purgeHistory(Number.POSITIVE_INFINITY), RangeError, /^before /],
          [
            'appendHistory: empty conversation',
            (each) => each.appendHistory('', [message(1, {})], 10),
            TypeError,
            /^conversation /,
          ],
          [
            'appendHistory: maxMessages 0',
            (each) => each.appendHistory('c', [message(1, {})], 0),
            RangeError,
            /^maxMessages must be a positive integer/,
          ],
          [
            'appendHistory: maxMessages 0 with no messages',
            (each) => each.appendHistory('c', [], 0),
            RangeError,
            /^maxMessages /,
          ],
          [
            'appendHistory: an unknown role after a good message',
            (each) => each.appendHistory('c', [message(1, {}), message(2, { role: 'robot' })], 10),
            TypeError,
            /^messages\[1\]\.role/,
          ],
          [
            'appendHistory: content not a string',
            (each) => each.appendHistory('c', [message(1, { content: 42 })], 10),
            TypeError,
            /^messages\[0\]\.content/,
          ],
          [
            'appendHistory: no time',
            (each) => each.appendHistory('c', [message(1, { at: Number.NaN })], 10),
            TypeError,
            /^messages\[0\]\.at/,
          ],
          ['readHistory: negative limit', (each) => each.readHistory('c', -1), RangeError, /^limit /],
          ['incrementCounter: empty key', (each) => each.incrementCounter('', 60_000, T0), TypeError, /^key /],
          [
            'incrementCounter: fractional window',
            (each) => each.incrementCounter('k', 0.5, T0),
            RangeError,
            /^windowMs must be a positive integer/,
          ],
          ['addToTotal: empty key', (each) => each.addToTotal('', 1, 60_000, T0), TypeError, /^key /],
          ['addToTotal: negative amount', (each) => each.addToTotal('k', -1, 60_000, T0), RangeError, /^amount /],
          ['addToTotal: fractional amount', (each) => each.addToTotal('k', 0.5, 60_000, T0), RangeError, /^amount /],
          ['addToTotal: ttl 0', (each) => each.addToTotal('k', 1, 0, T0), RangeError, /^ttlMs /],
          ['putRecord: empty collection', (each) => each.putRecord('', 'r', 1, 5), TypeError, /^collection /],
          ['putRecord: empty id', (each) => each.putRecord('c', '', 1, 5), TypeError, /^id /],
          ['putRecord: maxRecords 0', (each) => each.putRecord('c', 'r', 1, 0), RangeError, /^maxRecords /],
          [
            'putRecord: undefined value',
            (each) => each.putRecord('c', 'r', undefined, 5),
            TypeError,
            /^record value must be JSON-serialisable/,
          ],
          ['listRecords: negative limit', (each) => each.listRecords('c', -1), RangeError, /^limit /],
        ];

      it.each(refusals)('refuses %s with StoreArgumentError', async (_name, call, type, text) => {
        const error = await call(store).then(
          (value) => new Error(`accepted, answered ${JSON.stringify(value)}`),
          (caught: unknown) => caught,
        );
        expect(StoreArgumentError.isInstance(error), String(error)).toBe(true);
        expect(error).toBeInstanceOf(type);
        expect(error).toMatchObject({ code: 'STORE_INVALID_ARGUMENT', message: expect.stringMatching(text) });
      });

      it('stores nothing for a refused call, and the store works on', async () => {
        await enqueueAll([job('held', 'a'), job('waiting', 'b')]);
        await claim('w', T0 + 10);
        for (const [name, call] of refusals) await expect(call(store), name).rejects.toThrow();
        expect(await store.countJobs()).toEqual({ pending: 1, leased: 1, done: 0, dead: 0 });
        expect(await store.getJob('held')).toMatchObject({
          status: 'leased',
          owner: 'w',
          leaseUntil: T0 + 60_010,
          checkpoint: null,
          lastError: null,
        });
        expect(await store.getJob('waiting')).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.getJob('j1')).toBeNull();
        // The refused admission claimed none of its keys, not even the good one before the bad.
        expect(await store.claimKey('event:ok', HOUR, T0)).toBe(true);
        expect(await store.readHistory('c', 10)).toEqual([]);
        expect(await store.listRecords('c', 10)).toEqual([]);
        expect(await store.incrementCounter('k', 60_000, T0)).toBe(1);
        expect(await store.completeJob('held', 'w', T0 + 20)).toBe(true);
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('closes idempotently and rejects calls afterwards', async () => {
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
        await expect(store.ping()).rejects.toThrow(/closed/i);
        await expect(store.claimKey('k', HOUR, T0)).rejects.toThrow(/closed/i);
        await expect(store.enqueue(job('j1', 'a'), T0)).rejects.toThrow(/closed/i);
        await expect(store.getJob('j1')).rejects.toThrow(/closed/i);
      });

      it('keeps everything across a close and reopen (a restart)', async () => {
        await store.claimKey('event:e1', HOUR, T0);
        await enqueueAll([job('j1', 'a'), job('j2', 'b')]);
        await claim('w1', T0 + 10, { leaseMs: 1_000 });
        await store.saveCheckpoint('j1', 'w1', { card: 'c1' });
        await store.appendHistory('a', [{ role: 'user', content: 'hi', at: T0 }], 10);
        await store.incrementCounter('u', 60_000, T0);
        await store.putRecord('traces', 't1', { ok: true }, 10);
        await store.close();

        const reopened = await openAgain();
        expect(await reopened.claimKey('event:e1', HOUR, T0 + 1)).toBe(false);
        expect(await reopened.countJobs()).toEqual({ pending: 1, leased: 1, done: 0, dead: 0 });
        // The crashed holder's job comes back once its lease lapses, checkpoint and all.
        expect(await reopened.claimNextJob({ owner: 'w2', leaseMs: 1_000, now: T0 + 20 })).toMatchObject({ id: 'j2' });
        expect(await reopened.claimNextJob({ owner: 'w2', leaseMs: 1_000, now: T0 + 1_011 })).toMatchObject({
          id: 'j1',
          attempts: 2,
          checkpoint: { card: 'c1' },
        });
        expect(await reopened.readHistory('a', 10)).toEqual([{ role: 'user', content: 'hi', at: T0 }]);
        expect(await reopened.incrementCounter('u', 60_000, T0)).toBe(2);
        expect(await reopened.getRecord('traces', 't1')).toEqual({ ok: true });
      });
    });

    describe('across processes', () => {
      it('gives every key and every job to exactly one of several racing processes', { timeout: 90_000 }, async () => {
        const workerCount = 3;
        const keyCount = 150;
        const laneCount = 8;
        const jobsPerLane = 6;
        const expectedJobs: string[] = [];
        for (let index = 0; index < jobsPerLane; index += 1) {
          for (let lane = 0; lane < laneCount; lane += 1) {
            const id = `lane${lane}-job${index}`;
            const payload: RaceJobPayload = { previousId: index === 0 ? null : `lane${lane}-job${index - 1}` };
            expect(await store.enqueue({ id, lane: `lane${lane}`, kind: 'answer', payload })).toBe(true);
            expectedJobs.push(id);
          }
        }

        const workers = Array.from({ length: workerCount }, (_, index) =>
          startWorker(url, `worker-${index}`, keyCount),
        );
        try {
          await Promise.all(workers.map((worker) => worker.ready));
          for (const worker of workers) worker.child.stdin?.write('go\n');
          const results = await Promise.all(workers.map((worker) => worker.result));

          const wonKeys = results.flatMap((result) => result.keys);
          expect(wonKeys).toHaveLength(keyCount);
          expect(new Set(wonKeys).size).toBe(keyCount);

          const claimedJobs = results.flatMap((result) => result.jobs);
          expect(claimedJobs.slice().sort()).toEqual(expectedJobs.slice().sort());
          expect(results.flatMap((result) => result.fifoViolations)).toEqual([]);

          expect(await store.countJobs()).toEqual({ pending: 0, leased: 0, done: expectedJobs.length, dead: 0 });
          const finished = await store.listJobs({ status: 'done', limit: expectedJobs.length });
          expect(finished.every((each) => each.attempts === 1)).toBe(true);
        } finally {
          for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
        }
      });
    });
  });
}

interface StartedWorker {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<ClaimWorkerResult>;
}

function startWorker(storeUrl: string, workerId: string, keyCount: number): StartedWorker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', workerPath, storeUrl, workerId, String(keyCount), '60000'],
    {
      cwd: repositoryRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolveReady) => {
    markReady = resolveReady;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('ready\n')) markReady();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const result = new Promise<ClaimWorkerResult>((resolveResult, rejectResult) => {
    child.on('error', rejectResult);
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((each) => each.startsWith('{'));
      if (code === 0 && line) resolveResult(JSON.parse(line) as ClaimWorkerResult);
      else rejectResult(new Error(`${workerId} exited with ${code}: ${stderr || stdout}`));
    });
  });
  // A worker that dies before `ready` must fail the test rather than hang it.
  const readyOrDied = Promise.race([ready, result.then(() => undefined)]);
  return { child, ready: readyOrDied, result };
}

import { describe, expect, it } from 'vitest';
import { createEventRing } from './event-ring.js';
import type { TrackedEvent } from './tracked-event.js';

function ignored(seq: number, reason = `r${seq}`): TrackedEvent {
  return { type: 'message.ignored', traceId: `t${seq % 3}`, reason, at: 1_000 + seq, seq };
}

function fill(capacity: number, count: number) {
  const ring = createEventRing(capacity);
  for (let index = 0; index < count; index++) ring.push(ignored(ring.nextSeq));
  return ring;
}

const all = () => true;
const seqs = (events: TrackedEvent[]) => events.map((event) => event.seq);

describe('createEventRing', () => {
  it('is empty at first: nothing to page, numbering starts at 1', () => {
    const ring = createEventRing(4);
    expect(ring.nextSeq).toBe(1);
    expect(ring.page({}, all)).toEqual({ events: [], latestSeq: 0, oldestSeq: 0, hasMore: false });
    expect(ring.get(1)).toBeUndefined();
  });

  it('overwrites the oldest once full and counts everything pushed', () => {
    const ring = fill(4, 10);
    expect(ring.size).toBe(4);
    expect(ring.capacity).toBe(4);
    expect(ring.pushed).toBe(10);
    expect(ring.get(6)).toBeUndefined();
    expect(ring.get(7)?.seq).toBe(7);
    expect(ring.get(10)?.seq).toBe(10);
    expect(ring.get(11)).toBeUndefined();
  });

  it('pages back newest first from `before` and forward oldest first from `after`', () => {
    const ring = fill(100, 250);
    const back = ring.page({ before: 200, limit: 3 }, all);
    expect(seqs(back.events)).toEqual([199, 198, 197]);
    expect(back).toMatchObject({ latestSeq: 250, oldestSeq: 151, hasMore: true });
    expect(seqs(ring.page({ after: 247 }, all).events)).toEqual([248, 249, 250]);
    expect(ring.page({ after: 247 }, all).hasMore).toBe(false);
    // A number already overwritten starts at the oldest kept event, never at a stale slot.
    expect(seqs(ring.page({ after: 3, limit: 2 }, all).events)).toEqual([151, 152]);
    expect(seqs(ring.page({ before: 152 }, all).events)).toEqual([151]);
  });

  it('counts only the events `keep` accepts towards the page, and says when more match', () => {
    const ring = fill(50, 50);
    const even = (event: TrackedEvent) => event.seq % 2 === 0;
    const page = ring.page({ limit: 5 }, even);
    expect(seqs(page.events)).toEqual([50, 48, 46, 44, 42]);
    expect(page.hasMore).toBe(true);
    expect(ring.page({ after: 44, limit: 3 }, even).hasMore).toBe(false);
  });

  it('caps the page size at 1 000 and defaults it to 100', () => {
    const ring = fill(2_000, 2_000);
    expect(ring.page({}, all).events).toHaveLength(100);
    expect(ring.page({ limit: 5_000 }, all).events).toHaveLength(1_000);
  });

  it('refuses an event out of order, so numbers stay contiguous', () => {
    const ring = fill(4, 2);
    expect(() => ring.push(ignored(5))).toThrow(RangeError);
    expect(ring.nextSeq).toBe(3);
  });

  it('continues numbering after persisted events only while empty', () => {
    const ring = createEventRing(4);
    ring.continueAfter(41);
    expect(ring.nextSeq).toBe(42);
    ring.push(ignored(42));
    ring.continueAfter(100);
    expect(ring.nextSeq).toBe(43);
    expect(ring.page({}, all)).toMatchObject({ latestSeq: 42, oldestSeq: 42 });
  });

  it('needs a positive whole capacity', () => {
    expect(() => createEventRing(0)).toThrow(RangeError);
    expect(() => createEventRing(2.5)).toThrow(RangeError);
  });
});

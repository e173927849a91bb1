import { pageLimit } from './page-limit.js';
import type { TrackedEvent } from './tracked-event.js';

export interface PageQuery {
  /** Only events with a larger sequence number (catch-up after a reconnect). Returns oldest first. */
  after?: number;
  /** Only events with a smaller sequence number (paging back). Returns newest first. */
  before?: number;
  limit?: number;
}

export interface EventPage {
  events: TrackedEvent[];
  /** Sequence number of the newest event in the ring (0 when empty). */
  latestSeq: number;
  /** Sequence number of the oldest event still in the ring (0 when empty). */
  oldestSeq: number;
  /** True when more matching events exist beyond this page. */
  hasMore: boolean;
}

export interface EventRing {
  /** The sequence number the next pushed event must carry. */
  readonly nextSeq: number;
  /** Stores an event numbered `nextSeq`, overwriting the oldest once full. */
  push(event: TrackedEvent): void;
  /** The event with this sequence number, while it is still in the ring. */
  get(seq: number): TrackedEvent | undefined;
  /** One page of the events `keep` accepts, by sequence number. */
  page(query: PageQuery, keep: (event: TrackedEvent) => boolean): EventPage;
  /**
   * Numbers the next event after `seq` (after a restart, past the persisted timelines) so a
   * loaded timeline and a new event never share a number. Only while the ring is empty: its
   * numbers must stay contiguous.
   */
  continueAfter(seq: number): void;
  /** Events in the ring now. */
  readonly size: number;
  readonly capacity: number;
  /** Events pushed since the ring was made. */
  readonly pushed: number;
}

/**
 * A fixed-size ring of tracked events numbered 1, 2, 3, … in arrival order. The slots are
 * allocated once; numbers are contiguous, so a sequence number maps straight to its slot and
 * paging from any number costs only the page.
 *
 * @example
 * const ring = createEventRing(5_000);
 * ring.push({ ...event, seq: ring.nextSeq });
 * ring.page({ before: 120, limit: 50 }, () => true); // 119, 118, … newest first
 */
export function createEventRing(capacity: number): EventRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ringSize must be a positive integer');
  const slots: (TrackedEvent | undefined)[] = new Array(capacity).fill(undefined);
  let head = 0; // next slot to write
  let size = 0;
  let lastSeq = 0;
  let pushed = 0;

  const oldestSeq = () => (size === 0 ? 0 : lastSeq - size + 1);

  function get(seq: number): TrackedEvent | undefined {
    if (size === 0 || seq < lastSeq - size + 1 || seq > lastSeq) return undefined;
    return slots[(head - 1 - (lastSeq - seq) + capacity * 2) % capacity];
  }

  return {
    get nextSeq() {
      return lastSeq + 1;
    },
    get size() {
      return size;
    },
    get pushed() {
      return pushed;
    },
    capacity,

    push(event) {
      if (event.seq !== lastSeq + 1) throw new RangeError(`expected event ${lastSeq + 1}, got ${event.seq}`);
      slots[head] = event;
      head = (head + 1) % capacity;
      if (size < capacity) size++;
      lastSeq = event.seq;
      pushed++;
    },

    get,

    page(query, keep) {
      const limit = pageLimit(query.limit);
      const oldest = oldestSeq();
      const events: TrackedEvent[] = [];
      let hasMore = false;
      // `after` pages forward (oldest first, the live feed catching up), else backward from `before`.
      const forward = query.after !== undefined;
      const step = forward ? 1 : -1;
      const start = forward
        ? Math.max((query.after ?? 0) + 1, oldest)
        : Math.min(query.before === undefined ? lastSeq : query.before - 1, lastSeq);
      for (let seq = start; size > 0 && seq >= oldest && seq <= lastSeq; seq += step) {
        const event = get(seq);
        if (!event || !keep(event)) continue;
        if (events.length === limit) {
          hasMore = true;
          break;
        }
        events.push(event);
      }
      return { events, latestSeq: lastSeq, oldestSeq: oldest, hasMore };
    },

    continueAfter(seq) {
      if (size === 0) lastSeq = Math.max(lastSeq, seq);
    },
  };
}

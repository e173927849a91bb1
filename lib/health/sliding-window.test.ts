import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './sliding-window.js';

const START = Date.UTC(2026, 0, 1);

describe('SlidingWindow', () => {
  it('sums what was added within the window, per counter', () => {
    const window = new SlidingWindow({ slotCount: 4, slotMs: 1_000, width: 2 });
    window.add(START, 0);
    window.add(START + 500, 0, 2);
    window.add(START + 1_500, 1, 5);
    expect(window.sum(START + 1_500, 0)).toBe(3);
    expect(window.sum(START + 1_500, 1)).toBe(5);
  });

  it('ages a slot out once the window has slid past it, without any write', () => {
    const window = new SlidingWindow({ slotCount: 4, slotMs: 1_000 });
    window.add(START, 0, 7);
    window.add(START + 2_000, 0, 1);
    expect(window.sum(START + 3_999)).toBe(8);
    expect(window.sum(START + 4_000)).toBe(1);
    expect(window.sum(START + 6_000)).toBe(0);
  });

  it('reuses a slot in place when time comes round to it, forgetting what it held', () => {
    const window = new SlidingWindow({ slotCount: 4, slotMs: 1_000, width: 3 });
    const first = window.offsetAt(START);
    window.counts[first + 2] = 9;
    // Four slots later the same slot comes back for a new epoch: zeroed before it is handed out.
    const again = window.offsetAt(START + 4_000);
    expect(again).toBe(first);
    expect(Array.from(window.counts.subarray(again, again + 3))).toEqual([0, 0, 0]);
    // Within its own epoch it is handed out as it is.
    window.counts[again + 1] = 4;
    expect(window.counts[window.offsetAt(START + 4_999) + 1]).toBe(4);
  });

  it('ignores slots from the future after the clock steps back', () => {
    const window = new SlidingWindow({ slotCount: 4, slotMs: 1_000 });
    window.add(START + 10_000, 0, 3);
    expect(window.sum(START)).toBe(0);
    expect(window.sum(START + 10_000)).toBe(3);
  });

  it('reads the maximum and element-wise sums of a range of counters', () => {
    const window = new SlidingWindow({ slotCount: 3, slotMs: 1_000, width: 4 });
    const a = window.offsetAt(START);
    window.counts.set([5, 1, 2, 3], a);
    const b = window.offsetAt(START + 1_000);
    window.counts.set([9, 10, 20, 30], b);
    expect(window.max(START + 1_000, 0)).toBe(9);
    expect(Array.from(window.sumInto(START + 1_000, new Float64Array(3), 1, 3))).toEqual([11, 22, 33]);
    // The first slot has slid out: only the second remains.
    expect(Array.from(window.sumInto(START + 3_000, new Float64Array(4)))).toEqual([9, 10, 20, 30]);
    expect(window.max(START + 10_000, 0)).toBe(0);
  });

  it('rejects a shape that cannot be a window', () => {
    expect(() => new SlidingWindow({ slotCount: 1, slotMs: 1_000 })).toThrow(/slotCount/);
    expect(() => new SlidingWindow({ slotCount: 4, slotMs: 0 })).toThrow(/slotMs/);
    expect(() => new SlidingWindow({ slotCount: 4, slotMs: 1_000, width: 0 })).toThrow(/width/);
  });
});

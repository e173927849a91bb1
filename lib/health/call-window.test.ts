import { describe, expect, it } from 'vitest';
import { CallWindow, emptyCallTotals } from './call-window.js';
import { LATENCY_BUCKET_COUNT, LATENCY_BUCKET_RATIO } from './latency-histogram.js';

const START = Date.UTC(2026, 0, 1);
const slots = { slotCount: 4, slotMs: 1_000 };

describe('CallWindow', () => {
  it('summarises the calls in the window with percentiles from its histogram', () => {
    const window = new CallWindow(slots);
    for (let index = 1; index <= 100; index++) window.record(START + index * 10, index * 10, index % 10 === 0);
    const summary = window.summary(START + 1_000, new Float64Array(LATENCY_BUCKET_COUNT));
    expect(summary).toMatchObject({ calls: 100, errors: 10, latencySum: 50_500, latencyMax: 1_000 });
    expect(summary.p50 / 500).toBeGreaterThan(1 / LATENCY_BUCKET_RATIO);
    expect(summary.p50 / 500).toBeLessThan(LATENCY_BUCKET_RATIO);
    expect(summary.p99).toBeLessThanOrEqual(1_000);
    expect(summary.lastCallAt).toBe(START + 1_000);
  });

  it('forgets calls that slid out but remembers when the last one was', () => {
    const window = new CallWindow(slots);
    window.record(START, 200, true);
    const later = window.summary(START + 5_000, new Float64Array(LATENCY_BUCKET_COUNT));
    expect(later).toMatchObject({ calls: 0, errors: 0, p95: 0, lastCallAt: START });
    expect(new CallWindow(slots).summary(START, new Float64Array(LATENCY_BUCKET_COUNT)).lastCallAt).toBeNull();
  });

  it('accumulates several windows into one total and histogram', () => {
    const first = new CallWindow(slots);
    const second = new CallWindow(slots);
    first.record(START, 100, false);
    second.record(START, 300, true);
    second.record(START + 1_000, 50, false);
    const totals = emptyCallTotals();
    const histogram = new Float64Array(LATENCY_BUCKET_COUNT);
    first.accumulate(START + 1_000, totals, histogram);
    second.accumulate(START + 1_000, totals, histogram);
    expect(totals).toEqual({ calls: 3, errors: 1, latencySum: 450, latencyMax: 300 });
    expect(histogram.reduce((sum, count) => sum + count, 0)).toBe(3);
  });
});

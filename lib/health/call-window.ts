import { histogramQuantile, LATENCY_BUCKET_COUNT, latencyBucketIndex } from './latency-histogram.js';
import { SlidingWindow } from './sliding-window.js';

/** Agent calls over the window: counts and latency, summed across slots (and agents). */
export interface CallTotals {
  calls: number;
  errors: number;
  latencySum: number;
  latencyMax: number;
}

/** One agent's calls over the window, with latency percentiles read from its histogram. */
export interface CallSummary extends CallTotals {
  p50: number;
  p95: number;
  p99: number;
  /** Epoch ms of the last call ever (not only within the window), or null. */
  lastCallAt: number | null;
}

// Counter layout of one slot: four scalars, then the latency histogram.
const CALLS = 0;
const ERRORS = 1;
const LATENCY_SUM = 2;
const LATENCY_MAX = 3;
const HISTOGRAM = 4;

/** Fresh totals to accumulate into. */
export function emptyCallTotals(): CallTotals {
  return { calls: 0, errors: 0, latencySum: 0, latencyMax: 0 };
}

/**
 * One agent's (model) calls over a sliding window: per slot the call and error counts, latency
 * sum and maximum, and a log-spaced latency histogram (see latency-histogram.ts), so percentiles
 * are read within about 9 % of the exact value without keeping the samples.
 *
 * @example
 * const manager = new CallWindow({ slotCount: 60, slotMs: 5_000 });
 * manager.record(Date.now(), 840, false);
 * manager.summary(Date.now(), new Float64Array(LATENCY_BUCKET_COUNT)).p95;
 */
export class CallWindow {
  private readonly ring: SlidingWindow;
  private lastCallAt = -1;

  constructor({ slotCount, slotMs }: { slotCount: number; slotMs: number }) {
    this.ring = new SlidingWindow({ slotCount, slotMs, width: HISTOGRAM + LATENCY_BUCKET_COUNT });
  }

  /** Records one call: a few array writes, no allocation. `latencyMs` must be finite and ≥ 0. */
  record(now: number, latencyMs: number, isError: boolean): void {
    const offset = this.ring.offsetAt(now);
    const counts = this.ring.counts;
    counts[offset + CALLS]!++;
    if (isError) counts[offset + ERRORS]!++;
    counts[offset + LATENCY_SUM]! += latencyMs;
    if (latencyMs > counts[offset + LATENCY_MAX]!) counts[offset + LATENCY_MAX] = latencyMs;
    counts[offset + HISTOGRAM + latencyBucketIndex(latencyMs)]!++;
    this.lastCallAt = now;
  }

  /**
   * Adds this window's calls as of `now` into `totals` and its latency histogram into
   * `histogram` (LATENCY_BUCKET_COUNT long), so several agents can be summed into one.
   */
  accumulate(now: number, totals: CallTotals, histogram: Float64Array): void {
    totals.calls += this.ring.sum(now, CALLS);
    totals.errors += this.ring.sum(now, ERRORS);
    totals.latencySum += this.ring.sum(now, LATENCY_SUM);
    totals.latencyMax = Math.max(totals.latencyMax, this.ring.max(now, LATENCY_MAX));
    this.ring.sumInto(now, histogram, HISTOGRAM, LATENCY_BUCKET_COUNT);
  }

  /** This agent's figures as of `now`; `scratch` (LATENCY_BUCKET_COUNT long) is overwritten. */
  summary(now: number, scratch: Float64Array): CallSummary {
    const totals = emptyCallTotals();
    this.accumulate(now, totals, scratch.fill(0));
    return {
      ...totals,
      p50: histogramQuantile(scratch, totals.calls, 0.5, totals.latencyMax),
      p95: histogramQuantile(scratch, totals.calls, 0.95, totals.latencyMax),
      p99: histogramQuantile(scratch, totals.calls, 0.99, totals.latencyMax),
      lastCallAt: this.lastCallAt < 0 ? null : this.lastCallAt,
    };
  }
}

import { describe, expect, it } from 'vitest';
import { seededRandom as random } from '../../test/support/seeded-random.js';
import {
  histogramQuantile,
  LATENCY_BUCKET_COUNT,
  LATENCY_BUCKET_RATIO,
  latencyBucketIndex,
  latencyBucketLower,
  latencyBucketUpper,
} from './latency-histogram.js';

describe('latency histogram', () => {
  it('places every latency inside its bucket bounds', () => {
    for (const latency of [0, 0.5, 1, 1.05, 2, 3.7, 99, 1000, 59_999, 120_000, 262_144, 1e9]) {
      const index = latencyBucketIndex(latency);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(LATENCY_BUCKET_COUNT);
      expect(latency).toBeGreaterThanOrEqual(latencyBucketLower(index));
      expect(latency).toBeLessThan(latencyBucketUpper(index));
    }
    // Buckets reach past two minutes before the overflow bucket starts.
    expect(latencyBucketLower(LATENCY_BUCKET_COUNT - 1)).toBeGreaterThan(120_000);
  });

  it('reads percentiles within one bucket width of the exact value', () => {
    const next = random(7);
    const samples: number[] = [];
    const counts = new Float64Array(LATENCY_BUCKET_COUNT);
    for (let index = 0; index < 20_000; index++) {
      // Log-normal around 800 ms, like model calls.
      const gaussian = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
      const latency = Math.exp(Math.log(800) + gaussian);
      samples.push(latency);
      counts[latencyBucketIndex(latency)]!++;
    }
    samples.sort((a, b) => a - b);
    const max = samples.at(-1)!;
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const exact = samples[Math.ceil(q * samples.length) - 1]!;
      const estimate = histogramQuantile(counts, samples.length, q, max);
      expect(estimate / exact).toBeGreaterThan(1 / LATENCY_BUCKET_RATIO);
      expect(estimate / exact).toBeLessThan(LATENCY_BUCKET_RATIO);
    }
  });

  it('answers 0 for an empty histogram and never exceeds the largest value seen', () => {
    expect(histogramQuantile(new Float64Array(LATENCY_BUCKET_COUNT), 0, 0.95, 0)).toBe(0);
    const counts = new Float64Array(LATENCY_BUCKET_COUNT);
    counts[latencyBucketIndex(500_000)] = 3;
    expect(histogramQuantile(counts, 3, 0.99, 500_000)).toBe(500_000);
  });
});

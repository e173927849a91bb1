/**
 * Fixed, log-spaced latency buckets shared by every window slot of the health monitor.
 *
 * Why log-spaced: agent calls range from a few ms (cache, errors) to two minutes (long tool
 * loops), and the relative error of a percentile read from a histogram is bounded by the bucket
 * width ratio. Eight buckets per doubling gives 2^(1/8) ≈ 1.09, so a percentile is within about
 * 9 % of the true value anywhere between 1 ms and 262 s, in 146 counters per slot.
 *
 * Bucket 0 holds [0, 1 ms); bucket i (1 … 144) holds [2^((i-1)/8), 2^(i/8)) ms; the last bucket
 * holds everything from 2^18 ms ≈ 262 s up.
 */

export const LATENCY_BUCKETS_PER_DOUBLING = 8;
export const LATENCY_DOUBLINGS = 18;
export const LATENCY_BUCKET_COUNT = 2 + LATENCY_DOUBLINGS * LATENCY_BUCKETS_PER_DOUBLING;
/** Width ratio of one bucket: the worst-case relative error of a histogram percentile. */
export const LATENCY_BUCKET_RATIO = 2 ** (1 / LATENCY_BUCKETS_PER_DOUBLING);

const LAST_BUCKET = LATENCY_BUCKET_COUNT - 1;

/** The bucket a latency (ms, finite, ≥ 0) falls in. No allocation: it runs on every call. */
export function latencyBucketIndex(latencyMs: number): number {
  if (latencyMs < 1) return 0;
  const index = 1 + Math.floor(Math.log2(latencyMs) * LATENCY_BUCKETS_PER_DOUBLING);
  return Math.min(index, LAST_BUCKET);
}

/** Inclusive lower bound of a bucket, in ms. */
export function latencyBucketLower(index: number): number {
  return index <= 0 ? 0 : 2 ** ((index - 1) / LATENCY_BUCKETS_PER_DOUBLING);
}

/** Exclusive upper bound of a bucket, in ms (Infinity for the overflow bucket). */
export function latencyBucketUpper(index: number): number {
  return index >= LAST_BUCKET ? Number.POSITIVE_INFINITY : 2 ** (index / LATENCY_BUCKETS_PER_DOUBLING);
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram, interpolated linearly inside the bucket that holds
 * the target rank, and clamped to the largest value seen (the overflow bucket has no upper bound).
 * Returns 0 for an empty histogram.
 */
export function histogramQuantile(counts: ArrayLike<number>, total: number, q: number, maxSeen: number): number {
  if (total <= 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let cumulative = 0;
  for (let index = 0; index < LATENCY_BUCKET_COUNT; index++) {
    const count = counts[index] ?? 0;
    if (count === 0) continue;
    if (cumulative + count >= rank) {
      const lower = latencyBucketLower(index);
      const upper = Math.min(latencyBucketUpper(index), maxSeen);
      if (upper <= lower) return Math.min(lower, maxSeen);
      const fraction = (rank - cumulative) / count;
      return lower + (upper - lower) * fraction;
    }
    cumulative += count;
  }
  return maxSeen;
}

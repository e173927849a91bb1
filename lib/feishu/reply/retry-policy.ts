import { backoffDelay } from '../../util/backoff.js';
import type { Sleep } from '../../util/sleep.js';
import { FeishuApiError } from '../call-feishu.js';

/** How a reply retries Feishu calls that failed for a reason worth retrying. */
export interface RetryPolicyOptions {
  /** First retry delay (default 500 ms); doubles (`factor`) up to `maxMs` (default 8 s). */
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Consecutive failures before giving up (default 8). */
  maxRetries?: number;
  /** A server-given wait longer than this is capped (default 30 s). */
  maxRetryAfterMs?: number;
  /** Random spread of each delay, 0..1 (default 0.1), so many replies do not retry in lockstep. */
  jitter?: number;
}

export type RetryPolicy = Required<RetryPolicyOptions>;

/**
 * The policy with every default filled in.
 *
 * @example
 * const policy = resolveRetryPolicy({ initialMs: 20, maxRetries: 3 });
 */
export function resolveRetryPolicy(options: RetryPolicyOptions = {}): RetryPolicy {
  return {
    initialMs: options.initialMs ?? 500,
    maxMs: options.maxMs ?? 8_000,
    factor: options.factor ?? 2,
    maxRetries: options.maxRetries ?? 8,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    jitter: options.jitter ?? 0.1,
  };
}

/**
 * How long to wait before retry number `failures` (1-based) after `error`, or undefined when
 * retrying is pointless (a permanent error) or the retries are used up. A rate-limit answer's
 * own wait (`x-ogw-ratelimit-reset`) wins over the exponential delay.
 *
 * @example
 * const delay = retryDelayFor(error, failures, policy);
 * if (delay === undefined) throw error;
 */
export function retryDelayFor(error: unknown, failures: number, policy: RetryPolicy): number | undefined {
  if (failures > policy.maxRetries) return undefined;
  if (!FeishuApiError.isInstance(error) || !error.transient) return undefined;
  if (error.rateLimited && error.retryAfterMs !== undefined) {
    return Math.min(policy.maxRetryAfterMs, Math.max(error.retryAfterMs, policy.initialMs));
  }
  return backoffDelay(failures, policy);
}

/**
 * Retries `operation` on transient Feishu errors per `policy`; rethrows anything else.
 *
 * @example
 * const body = await withRetries(() => callFeishu(bus, api, call), { policy, sleep });
 */
export async function withRetries<T>(
  operation: () => Promise<T>,
  { policy, sleep }: { policy: RetryPolicy; sleep: Sleep },
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await operation();
    } catch (error) {
      const delay = retryDelayFor(error, failures, policy);
      if (delay === undefined) throw error;
      await sleep(delay);
    }
  }
}

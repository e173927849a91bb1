/** What the limiter shows in /health, /metrics and devtools. */
export interface LimiterReading {
  limit: number;
  inFlight: number;
  /** Callers waiting for a permit now. */
  waiting: number;
  /** The hard ceiling (MAX_CONCURRENT_JOBS). */
  max: number;
  /** Why the limit is what it is: the last change, in words. */
  reason: string;
  /** Epoch ms of the last change, or null when it never changed. */
  changedAt: number | null;
}

export interface LimitChange {
  limit: number;
  previous: number;
  reason: string;
}

/** What a finished request says about the provider's capacity. */
export interface PermitOutcome {
  /** A 429, or a rate-limit header saying nothing is left. */
  rateLimited?: boolean;
  /** Time to the first token (or the whole answer without streaming), for spike detection. */
  latencyMs?: number;
}

export interface Permit {
  /**
   * The provider took the request (its response started without a rate limit): the signal the
   * limit grows on. Call once, as soon as the response starts.
   */
  accepted(): void;
  /** Gives the permit back, with what the request showed; later calls do nothing. */
  release(outcome?: PermitOutcome): void;
}

export interface ConcurrencyLimiter {
  tryAcquire(): Permit | undefined;
  /** Waits (first come, first served) up to `timeoutMs` for a permit; undefined when none came. */
  acquire(timeoutMs: number, signal?: AbortSignal): Promise<Permit | undefined>;
  readonly limit: number;
  read(): LimiterReading;
}

export interface ConcurrencyLimiterOptions {
  /** Starting limit: generous, since the work is almost all waiting on the network. Default 16. */
  initial?: number;
  min?: number;
  /** Hard ceiling. */
  max: number;
  /** Factor of a cut on a rate limit. Default 0.5. */
  rateLimitBackoff?: number;
  /** Factor of a cut on a latency spike. Default 0.8. */
  latencyBackoff?: number;
  /** A first token this many times the usual one (and ≥ 1 s more) is a spike. Default 2.5. */
  latencySpikeRatio?: number;
  /** Callers that may wait at once; further ones get no permit. Default 1 000. */
  maxWaiting?: number;
  onChange?: (change: LimitChange) => void;
  now?: () => number;
}

/**
 * An adaptive (AIMD) concurrency limit for one model's requests, in the spirit of Netflix's
 * concurrency-limits and TCP's congestion control: the provider's rate limits are the real bound,
 * not a fixed pool.
 *
 * - Grows while the provider accepts requests: by one per accepted request until the first cut
 *   (slow start, so a burst from idle gets its slots within one round trip), then by one per
 *   `limit` accepted requests (additive). It only grows while at least half of it is in use.
 * - Cuts multiplicatively on a 429 or a rate-limit header saying nothing is left (× 0.5), and on
 *   a latency spike while busy (× 0.8). Only requests that started after the last cut can cut
 *   again, so one burst of 429s from requests already out counts once.
 * - Bounded by `max` (MAX_CONCURRENT_JOBS) and `min`.
 *
 * @example
 * const limiter = createConcurrencyLimiter({ max: 64 });
 * const permit = limiter.tryAcquire() ?? (await limiter.acquire(2_000));
 * permit?.accepted(); // the response started
 * permit?.release({ latencyMs: 900 });
 */
export function createConcurrencyLimiter({
  initial = 16,
  min = 1,
  max,
  rateLimitBackoff = 0.5,
  latencyBackoff = 0.8,
  latencySpikeRatio = 2.5,
  maxWaiting = 1_000,
  onChange,
  now = Date.now,
}: ConcurrencyLimiterOptions): ConcurrencyLimiter {
  const ceiling = Math.max(1, Math.floor(max));
  const floor = Math.min(Math.max(1, Math.floor(min)), ceiling);
  let limit = Math.min(Math.max(initial, floor), ceiling);
  let inFlight = 0;
  let slowStart = true;
  let lastCutAt = Number.NEGATIVE_INFINITY;
  let reason = `starting limit ${Math.floor(limit)}`;
  let changedAt: number | null = null;
  /** Slow EWMA of the first-token latency: what "usual" means. */
  let usualLatencyMs: number | undefined;
  const waiters: Array<{ grant: (permit: Permit | undefined) => void }> = [];

  const setLimit = (next: number, why: string) => {
    const bounded = Math.min(ceiling, Math.max(floor, next));
    const before = Math.floor(limit);
    limit = bounded;
    if (Math.floor(bounded) !== before) {
      reason = why;
      changedAt = now();
      onChange?.({ limit: Math.floor(bounded), previous: before, reason: why });
    }
    grantWaiters();
  };

  const cut = (factor: number, acquiredAt: number, why: (to: number) => string) => {
    // Requests already out when the limit was last cut report the same congestion again.
    if (acquiredAt < lastCutAt) return;
    slowStart = false;
    lastCutAt = now();
    const to = Math.max(floor, Math.floor(limit * factor));
    setLimit(to, why(to));
  };

  const newPermit = (): Permit => {
    inFlight += 1;
    const acquiredAt = now();
    let accepted = false;
    let released = false;
    return {
      accepted() {
        if (accepted || released) return;
        accepted = true;
        // Grow only while the limit is actually used: idle capacity proves nothing.
        if (inFlight * 2 < limit) return;
        if (slowStart)
          setLimit(limit + 1, `growing: the provider accepts requests (slow start, ${inFlight} in flight)`);
        else setLimit(limit + 1 / limit, `growing: the provider accepts requests without rate limits`);
      },
      release(outcome = {}) {
        if (released) return;
        released = true;
        inFlight -= 1;
        const busy = (inFlight + 1) * 2 >= limit;
        if (outcome.rateLimited) {
          cut(rateLimitBackoff, acquiredAt, (to) => `cut to ${to}: the provider rate-limited a request (429)`);
        } else if (outcome.latencyMs !== undefined && Number.isFinite(outcome.latencyMs)) {
          const latency = Math.max(0, outcome.latencyMs);
          const usual = usualLatencyMs;
          if (busy && usual !== undefined && latency > usual * latencySpikeRatio && latency - usual >= 1_000) {
            cut(
              latencyBackoff,
              acquiredAt,
              (to) => `cut to ${to}: first token after ${Math.round(latency)} ms, usually ${Math.round(usual)} ms`,
            );
          }
          usualLatencyMs = usual === undefined ? latency : usual + (latency - usual) * 0.1;
        }
        grantWaiters();
      },
    };
  };

  function grantWaiters(): void {
    while (waiters.length > 0 && inFlight < Math.floor(limit)) waiters.shift()!.grant(newPermit());
  }

  return {
    tryAcquire() {
      if (waiters.length > 0 || inFlight >= Math.floor(limit)) return undefined;
      return newPermit();
    },
    acquire(timeoutMs, signal) {
      if (waiters.length === 0 && inFlight < Math.floor(limit)) return Promise.resolve(newPermit());
      if (waiters.length >= maxWaiting || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const waiter = {
          grant: (permit: Permit | undefined) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', giveUp);
            resolve(permit);
          },
        };
        const giveUp = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          waiter.grant(undefined);
        };
        const timer = setTimeout(giveUp, timeoutMs);
        signal?.addEventListener('abort', giveUp, { once: true });
        waiters.push(waiter);
      });
    },
    get limit() {
      return Math.floor(limit);
    },
    read: () => ({
      limit: Math.floor(limit),
      inFlight,
      waiting: waiters.length,
      max: ceiling,
      reason,
      changedAt,
    }),
  };
}

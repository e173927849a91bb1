import type { ErrorCategory } from '../observe/error-category.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  /** The state now (an open breaker whose cooldown has passed reports 'half-open'). */
  state(): BreakerState;
  /**
   * Asks to send one call. Closed: always yes. Open: no. Half-open: yes for exactly one probe at
   * a time; the probe's `recordSuccess` closes the breaker, its `recordFailure` re-opens it.
   */
  tryAcquire(): boolean;
  recordSuccess(): void;
  recordFailure(category: ErrorCategory): void;
  /** Gives a permit back without a verdict (the caller gave up, e.g. shutdown). */
  release(): void;
  /** Why it last opened, for the user message when every model is open. */
  readonly lastFailureCategory: ErrorCategory | undefined;
  readonly consecutiveFailures: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before letting one probe through. */
  cooldownMs: number;
  now?: () => number;
}

/**
 * A per-model circuit breaker: closed → open after `failureThreshold` consecutive failures →
 * half-open after `cooldownMs` (one probe) → closed on the probe's success, open again on its
 * failure. Per model, so a rate-limited primary does not stop its fallbacks, and calls return to
 * the primary as soon as one probe succeeds.
 *
 * @example
 * const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 30_000 });
 * if (breaker.tryAcquire()) { try { await call(); breaker.recordSuccess(); } catch { breaker.recordFailure('RATE_LIMIT'); } }
 */
export function createCircuitBreaker({
  failureThreshold,
  cooldownMs,
  now = Date.now,
}: CircuitBreakerOptions): CircuitBreaker {
  let failures = 0;
  let openedAt: number | undefined;
  let probeStartedAt: number | undefined;
  let lastFailureCategory: ErrorCategory | undefined;

  const currentState = (): BreakerState => {
    if (openedAt === undefined) return 'closed';
    return now() - openedAt >= cooldownMs ? 'half-open' : 'open';
  };

  return {
    state: currentState,
    tryAcquire() {
      const state = currentState();
      if (state === 'closed') return true;
      if (state === 'open') return false;
      // A probe whose caller vanished without a verdict must not wedge the breaker half-open
      // forever: after another cooldown a new probe may go.
      if (probeStartedAt !== undefined && now() - probeStartedAt < cooldownMs) return false;
      probeStartedAt = now();
      return true;
    },
    recordSuccess() {
      failures = 0;
      openedAt = undefined;
      probeStartedAt = undefined;
    },
    recordFailure(category) {
      failures += 1;
      lastFailureCategory = category;
      const wasProbe = probeStartedAt !== undefined;
      probeStartedAt = undefined;
      if (wasProbe || failures >= failureThreshold) openedAt = now();
    },
    release() {
      probeStartedAt = undefined;
    },
    get lastFailureCategory() {
      return lastFailureCategory;
    },
    get consecutiveFailures() {
      return failures;
    },
  };
}

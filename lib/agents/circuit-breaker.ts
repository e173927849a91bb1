import type { ErrorCategory } from '../observe/error-category.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A change of a breaker's state, for events and logs. */
export interface BreakerChange {
  state: BreakerState;
  /** When it opened: how long until the next probe may go. */
  cooldownMs?: number;
  /** The failure that opened it (or re-opened it after a failed probe). */
  category?: ErrorCategory;
}

export interface CircuitBreaker {
  /** The state now (an open breaker whose cooldown has passed reports 'half-open'). */
  state(): BreakerState;
  /**
   * Asks to send one call. Closed: always yes. Open: no. Half-open: yes for exactly one probe at
   * a time; the probe's `recordSuccess` closes the breaker, its `recordFailure` re-opens it.
   */
  tryAcquire(): boolean;
  recordSuccess(): void;
  /** `retryAfterMs`: the provider's own wait, which stretches the cooldown (never past the maximum). */
  recordFailure(category: ErrorCategory, retryAfterMs?: number): void;
  /** Gives a permit back without a verdict (the caller gave up, e.g. shutdown). */
  release(): void;
  /**
   * Milliseconds until `tryAcquire` may say yes again: 0 when closed or a probe may go now;
   * the rest of the cooldown when open; undefined while another caller's probe is out (its
   * verdict decides).
   */
  waitMs(): number | undefined;
  /** Why it last opened, for the user message when every model is open. */
  readonly lastFailureCategory: ErrorCategory | undefined;
  readonly consecutiveFailures: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** The first cooldown after opening; each failed probe doubles it. Default 1 000 ms. */
  firstCooldownMs?: number;
  /** The longest cooldown the doubling reaches (and the longest retry-after it honours). */
  cooldownMs: number;
  /**
   * A probe that gave no verdict for this long (its caller vanished) no longer blocks the next
   * one. Give it the first-token timeout: a slow probe is not a vanished one. Default 30 000 ms.
   */
  probeTimeoutMs?: number;
  onChange?: (change: BreakerChange) => void;
  now?: () => number;
}

/**
 * A per-model circuit breaker: closed → open after `failureThreshold` consecutive failures →
 * half-open after a short first cooldown (one probe, a real request) → closed on the probe's
 * success, open again on its failure with the cooldown doubled, up to `cooldownMs`. A short
 * first cooldown gets users answered within seconds of a provider recovering; the doubling keeps
 * a long outage down to one request per `cooldownMs`. Per model, so a rate-limited primary does
 * not stop its fallbacks.
 *
 * @example
 * const breaker = createCircuitBreaker({ failureThreshold: 3, firstCooldownMs: 1_000, cooldownMs: 4_000 });
 * if (breaker.tryAcquire()) { try { await call(); breaker.recordSuccess(); } catch { breaker.recordFailure('RATE_LIMIT'); } }
 */
export function createCircuitBreaker({
  failureThreshold,
  firstCooldownMs = 1_000,
  cooldownMs,
  probeTimeoutMs = 30_000,
  onChange,
  now = Date.now,
}: CircuitBreakerOptions): CircuitBreaker {
  const maxCooldownMs = Math.max(cooldownMs, 1);
  const baseCooldownMs = Math.min(Math.max(firstCooldownMs, 1), maxCooldownMs);
  let failures = 0;
  let openedAt: number | undefined;
  let currentCooldownMs = baseCooldownMs;
  /** Openings since the breaker was last closed: the exponent of the back-off. */
  let openings = 0;
  let probeStartedAt: number | undefined;
  let lastFailureCategory: ErrorCategory | undefined;

  const probeOut = () => probeStartedAt !== undefined && now() - probeStartedAt < probeTimeoutMs;
  const currentState = (): BreakerState => {
    if (openedAt === undefined) return 'closed';
    return now() - openedAt >= currentCooldownMs ? 'half-open' : 'open';
  };
  const open = (category: ErrorCategory, retryAfterMs: number | undefined) => {
    openings += 1;
    const backoff = baseCooldownMs * 2 ** Math.min(openings - 1, 30);
    currentCooldownMs = Math.min(maxCooldownMs, Math.max(backoff, retryAfterMs ?? 0));
    openedAt = now();
    onChange?.({ state: 'open', cooldownMs: currentCooldownMs, category });
  };

  return {
    state: currentState,
    tryAcquire() {
      const state = currentState();
      if (state === 'closed') return true;
      if (state === 'open') return false;
      // A probe whose caller vanished without a verdict must not wedge the breaker half-open.
      if (probeOut()) return false;
      probeStartedAt = now();
      onChange?.({ state: 'half-open' });
      return true;
    },
    recordSuccess() {
      const wasOpen = openedAt !== undefined;
      failures = 0;
      openings = 0;
      openedAt = undefined;
      probeStartedAt = undefined;
      currentCooldownMs = baseCooldownMs;
      if (wasOpen) onChange?.({ state: 'closed' });
    },
    recordFailure(category, retryAfterMs) {
      failures += 1;
      lastFailureCategory = category;
      const wasProbe = probeStartedAt !== undefined;
      probeStartedAt = undefined;
      // Attempts that were already out when it opened report late: they do not re-open it.
      if (wasProbe || (openedAt === undefined && failures >= failureThreshold)) open(category, retryAfterMs);
    },
    release() {
      probeStartedAt = undefined;
    },
    waitMs() {
      const state = currentState();
      if (state === 'closed') return 0;
      if (state === 'open') return Math.max(0, (openedAt ?? 0) + currentCooldownMs - now());
      return probeOut() ? undefined : 0;
    },
    get lastFailureCategory() {
      return lastFailureCategory;
    },
    get consecutiveFailures() {
      return failures;
    },
  };
}

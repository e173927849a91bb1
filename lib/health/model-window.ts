import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';
import { SlidingWindow } from './sliding-window.js';

export type BreakerStateSeen = 'closed' | 'open' | 'half-open';

/** One model's requests over the window: what it answered, what failed and what its breaker refused. */
export interface ModelReading {
  /** Requests sent to the model (its verdicts: a success, or a failure by category). */
  attempts: number;
  successes: number;
  failures: number;
  /** Calls its open circuit breaker turned away unsent (category CIRCUIT_OPEN). */
  refused: number;
  /** Failures by category, only the categories that occurred. */
  failuresByCategory: Partial<Record<ErrorCategory, number>>;
  /** The breaker's last reported state, when it changed (epoch ms), and the cooldown it opened with. */
  breaker: { state: BreakerStateSeen; since: number | null; cooldownMs: number | null };
}

const SUCCESSES = 0;
const FAILURES = 1;
/** Then one counter per error category (CIRCUIT_OPEN's counter holds the refusals). */
const BY_CATEGORY = 2;
const CATEGORY_INDEX = new Map<string, number>(ERROR_CATEGORIES.map((category, index) => [category, index]));
const REFUSED = BY_CATEGORY + CATEGORY_INDEX.get('CIRCUIT_OPEN')!;
const OTHER = CATEGORY_INDEX.get('OTHER')!;

/**
 * Per-model detail behind the user-facing figures: a turn a fallback answered is a success for
 * the user, and the primary's failed attempts and its breaker's refusals stay visible here.
 *
 * @example
 * const primary = new ModelWindow({ slotCount: 60, slotMs: 5_000 });
 * primary.record(Date.now(), 'error', 'RATE_LIMIT');
 * primary.read(Date.now()).failures; // 1
 */
export class ModelWindow {
  private readonly ring: SlidingWindow;
  private breaker: ModelReading['breaker'] = { state: 'closed', since: null, cooldownMs: null };

  constructor({ slotCount, slotMs }: { slotCount: number; slotMs: number }) {
    this.ring = new SlidingWindow({ slotCount, slotMs, width: BY_CATEGORY + ERROR_CATEGORIES.length });
  }

  record(now: number, outcome: 'success' | 'error' | 'refused', category: ErrorCategory | undefined): void {
    const offset = this.ring.offsetAt(now);
    const counts = this.ring.counts;
    if (outcome === 'success') counts[offset + SUCCESSES]!++;
    else if (outcome === 'refused') counts[offset + REFUSED]!++;
    else {
      counts[offset + FAILURES]!++;
      counts[offset + BY_CATEGORY + (CATEGORY_INDEX.get(category ?? 'OTHER') ?? OTHER)]!++;
    }
  }

  setBreaker(now: number, state: BreakerStateSeen, cooldownMs: number | undefined): void {
    this.breaker = { state, since: now, cooldownMs: state === 'open' ? (cooldownMs ?? null) : null };
  }

  /** Attempts and failures in the window (for the per-model status condition). */
  counts(now: number): { attempts: number; failures: number } {
    const failures = this.ring.sum(now, FAILURES);
    return { attempts: this.ring.sum(now, SUCCESSES) + failures, failures };
  }

  read(now: number): ModelReading {
    const successes = this.ring.sum(now, SUCCESSES);
    const failures = this.ring.sum(now, FAILURES);
    const failuresByCategory: Partial<Record<ErrorCategory, number>> = {};
    for (const [index, category] of ERROR_CATEGORIES.entries()) {
      if (category === 'CIRCUIT_OPEN') continue;
      const count = this.ring.sum(now, BY_CATEGORY + index);
      if (count > 0) failuresByCategory[category] = count;
    }
    return {
      attempts: successes + failures,
      successes,
      failures,
      refused: this.ring.sum(now, REFUSED),
      failuresByCategory,
      breaker: { ...this.breaker },
    };
  }
}

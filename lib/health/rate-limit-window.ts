import { SlidingWindow } from './sliding-window.js';

/** One provider/model's rate-limit answers over the window and what the last one said. */
export interface RateLimitReading {
  count: number;
  /** Epoch ms of the last rate-limit answer ever, or null. */
  lastAt: number | null;
  retryAfterMs: number | null;
  remaining: number | null;
}

/**
 * Rate-limit answers of one provider/model over a sliding window, plus the last retry-after and
 * remaining quota it reported (either may be absent from an answer; the last known value stays).
 *
 * @example
 * const limits = new RateLimitWindow({ slotCount: 60, slotMs: 5_000 });
 * limits.record(Date.now(), 2_000, 0);
 * limits.read(Date.now()).count; // 1
 */
export class RateLimitWindow {
  private readonly ring: SlidingWindow;
  private lastAt = -1;
  private retryAfterMs: number | null = null;
  private remaining: number | null = null;

  constructor({ slotCount, slotMs }: { slotCount: number; slotMs: number }) {
    this.ring = new SlidingWindow({ slotCount, slotMs });
  }

  record(now: number, retryAfterMs?: number, remaining?: number): void {
    this.ring.add(now);
    this.lastAt = now;
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) this.retryAfterMs = Math.max(0, retryAfterMs);
    if (remaining !== undefined && Number.isFinite(remaining)) this.remaining = remaining;
  }

  /** Answers within the window ending at `now`. */
  count(now: number): number {
    return this.ring.sum(now);
  }

  read(now: number): RateLimitReading {
    return {
      count: this.count(now),
      lastAt: this.lastAt < 0 ? null : this.lastAt,
      retryAfterMs: this.retryAfterMs,
      remaining: this.remaining,
    };
  }
}

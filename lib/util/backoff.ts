export interface BackoffOptions {
  /** The first pause, after the first failure. */
  initialMs: number;
  /** No pause is longer than this. */
  maxMs: number;
  /** Growth per failure; 2 doubles. */
  factor?: number;
  /**
   * Fraction of the pause that is randomised, so many clients failing together do not retry in
   * lockstep: 0 is none, 0.2 spreads each pause over ±20 %.
   */
  jitter?: number;
  random?: () => number;
}

/**
 * The pause before retry number `failures` (1-based): `initialMs × factor^(failures−1)`, capped
 * at `maxMs`, spread by `jitter` around that value (never below 0 nor above `maxMs`).
 *
 * @example
 * await sleep(backoffDelay(attempt, { initialMs: 250, maxMs: 10_000, jitter: 0.2 }));
 */
export function backoffDelay(
  failures: number,
  { initialMs, maxMs, factor = 2, jitter = 0, random = Math.random }: BackoffOptions,
): number {
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(maxMs, initialMs * factor ** exponent);
  if (jitter <= 0) return base;
  const spread = base * jitter * (2 * random() - 1);
  return Math.round(Math.min(maxMs, Math.max(0, base + spread)));
}

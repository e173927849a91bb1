import type { Logger } from '../log.js';

export interface SampledLogOptions {
  log: Logger;
  /** Level of every line. */
  level?: 'warn' | 'info' | 'error';
  /** At most one line per reason per this many ms after the first. Default 10 s. */
  intervalMs?: number;
  /** Distinct reasons tracked; beyond it, further reasons share one 'other' budget. */
  maxReasons?: number;
  now?: () => number;
}

/** Logs one line for a reason, or counts it when that reason already logged within the interval. */
export type SampledLog = (reason: string, fields: Record<string, unknown>, message: string) => void;

interface ReasonState {
  loggedAt: number;
  /** Occurrences not logged since the last line of this reason. */
  suppressed: number;
}

/**
 * Rate-limits log lines per reason so a flood (2 000 forged requests a second) cannot fill the
 * disk: the first occurrence of each reason is logged at once, then at most one line per reason
 * per `intervalMs`, carrying `suppressed`: how many were not logged since the previous line.
 * Counting every occurrence is the metrics' job, not the log's.
 *
 * @example
 * const logRejection = createSampledLog({ log });
 * logRejection('SIGNATURE_INVALID', { status: 401, path }, 'webhook request rejected');
 */
export function createSampledLog({
  log,
  level = 'warn',
  intervalMs = 10_000,
  maxReasons = 64,
  now = Date.now,
}: SampledLogOptions): SampledLog {
  const reasons = new Map<string, ReasonState>();
  return (reason, fields, message) => {
    const key = reasons.has(reason) || reasons.size < maxReasons ? reason : 'other';
    const at = now();
    const state = reasons.get(key);
    if (state !== undefined && at - state.loggedAt < intervalMs) {
      state.suppressed += 1;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    reasons.set(key, { loggedAt: at, suppressed: 0 });
    log[level]({ ...fields, reason, ...(suppressed > 0 ? { suppressed } : {}) }, message);
  };
}

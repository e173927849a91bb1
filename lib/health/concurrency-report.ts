import type { ChainConcurrency } from '../agents/model-chain.js';

/** One model's adaptive concurrency limit, as /health shows it. */
export interface ModelConcurrency {
  limit: number;
  inFlight: number;
  waiting: number;
  /** Why the limit is what it is: the last change (grown, or cut on a 429 or a latency spike). */
  reason: string;
  changedAt: string | null;
}

/** The `concurrency` field of /health: how many agent runs are admitted at once now, and why. */
export interface ConcurrencyReport {
  /** Agent runs admitted at once now: the models' adaptive limits, within `ceiling`. */
  limit: number;
  /** MAX_CONCURRENT_JOBS, the hard ceiling. */
  ceiling: number;
  /** Agent runs running now in this process. */
  running: number;
  byModel: Record<string, ModelConcurrency>;
}

/**
 * Shapes the model chain's concurrency reading and the dispatcher's running count for /health,
 * /metrics and devtools.
 *
 * @example
 * const report = concurrencyReport(chain.concurrency(), dispatcher.running().main);
 */
export function concurrencyReport(chain: ChainConcurrency, running: number): ConcurrencyReport {
  const byModel: Record<string, ModelConcurrency> = {};
  for (const [model, reading] of Object.entries(chain.byModel)) {
    byModel[model] = {
      limit: reading.limit,
      inFlight: reading.inFlight,
      waiting: reading.waiting,
      reason: reading.reason,
      changedAt: reading.changedAt === null ? null : new Date(reading.changedAt).toISOString(),
    };
  }
  return { limit: chain.limit, ceiling: chain.ceiling, running, byModel };
}

import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export interface HousekeepingOptions {
  store: Store;
  log: Logger;
  /** Finished (done or dead) jobs older than this are deleted. Never below the dedupe TTL. */
  retentionMs: number;
  intervalMs?: number;
  now?: () => number;
}

export interface Housekeeping {
  /** One pass; returns how many jobs were deleted. */
  runOnce(): Promise<number>;
  stop(): void;
}

/**
 * Keeps the job table bounded: finished jobs are deleted once they are older than the retention.
 * The job id doubles as the last line of dedupe (a redelivery whose keys expired finds its job),
 * so retention is at least the dedupe TTL; dead letters stay visible to operators that long too.
 * A failed pass (store outage) is logged and tried again at the next interval.
 *
 * @example
 * const housekeeping = startHousekeeping({ store, log, retentionMs: 72 * 3_600_000 });
 * // on shutdown
 * housekeeping.stop();
 */
export function startHousekeeping({
  store,
  log,
  retentionMs,
  intervalMs = 10 * 60_000,
  now = Date.now,
}: HousekeepingOptions): Housekeeping {
  let running: Promise<number> | undefined;
  const runOnce = () => {
    running ??= store
      .purgeJobs(now() - retentionMs)
      .then((deleted) => {
        if (deleted > 0) log.info({ deleted, retentionHours: retentionMs / 3_600_000 }, 'purged finished jobs');
        return deleted;
      })
      .catch((error: unknown) => {
        log.warn({ err: error }, 'purging finished jobs failed; will try again');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void runOnce(), intervalMs);
  // Housekeeping must never keep a draining process alive.
  timer.unref();
  void runOnce();
  return { runOnce, stop: () => clearInterval(timer) };
}

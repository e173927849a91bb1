import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export interface HousekeepingOptions {
  store: Store;
  log: Logger;
  /** Finished (done or dead) jobs older than this are deleted. Never below the dedupe TTL. */
  retentionMs: number;
  /** Conversations whose newest message is older than this are forgotten (MEMORY_RETENTION_DAYS). */
  historyRetentionMs?: number;
  /** More bounded clean-ups run in each pass after the purges (e.g. chats the bot left). */
  extraPasses?: readonly { name: string; run(): Promise<unknown> }[];
  intervalMs?: number;
  now?: () => number;
}

export interface Housekeeping {
  /** One pass; returns how many jobs were deleted (forgotten conversations are logged). */
  runOnce(): Promise<number>;
  stop(): void;
}

/**
 * Keeps the store bounded: finished jobs are deleted once they are older than the retention.
 * The job id doubles as the last line of dedupe (a redelivery whose keys expired finds its job),
 * so retention is at least the dedupe TTL; dead letters stay visible to operators that long too.
 * Conversation memory idle past its retention is forgotten the same way. A failed
 * pass (store outage) is logged and tried again at the next interval.
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
  historyRetentionMs,
  extraPasses = [],
  intervalMs = 10 * 60_000,
  now = Date.now,
}: HousekeepingOptions): Housekeeping {
  let running: Promise<number> | undefined;
  const pass = async () => {
    const deleted = await store.purgeJobs(now() - retentionMs);
    if (deleted > 0) log.info({ deleted, retentionHours: retentionMs / 3_600_000 }, 'purged finished jobs');
    if (historyRetentionMs !== undefined) {
      const forgotten = await store.purgeHistory(now() - historyRetentionMs);
      if (forgotten > 0) log.info({ conversations: forgotten }, 'forgot conversations idle past MEMORY_RETENTION_DAYS');
    }
    for (const extra of extraPasses) {
      // One failing clean-up must not stop the others; it is tried again at the next pass.
      await extra
        .run()
        .catch((error: unknown) => log.warn({ err: error, pass: extra.name }, 'housekeeping pass failed'));
    }
    return deleted;
  };
  const runOnce = () => {
    running ??= pass()
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

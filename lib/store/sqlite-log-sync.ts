import { closeSync, fdatasync, openSync } from 'node:fs';

export interface SqliteLogSync {
  /**
   * Resolves once everything written to the WAL before this call is on disk (an fdatasync that
   * started after the call). Calls made while a sync runs share the next one.
   */
  sync(): Promise<void>;
  /** Waits for the syncs asked for, then closes the log's file descriptor. */
  close(): Promise<void>;
}

export interface SqliteLogSyncOptions {
  /** The database file; its write-ahead log is `<path>-wal`. */
  path: string;
  /** Flushes one file descriptor to disk (tests wrap it); runs on libuv's thread pool by default. */
  flush?: (fd: number) => Promise<void>;
  /**
   * Flushes that may run at once. With 1, a sync asked for during a flush waits for it and then
   * one more; with 2 it starts at once (each flush still starts after its call, so it covers
   * every write made before it), and the caller waits about one flush instead of up to two.
   */
  maxFlushes?: number;
}

/**
 * Flushes the store runs at once, and so commits whose flush may be pending (the group commit's
 * `maxSyncsInFlight`): a commit's flush starts while earlier ones run. One thread of libuv's four
 * stays free for DNS lookups and file reads.
 */
export const STORE_LOG_FLUSHES = 3;

const fdatasyncAsync = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

/**
 * Makes committed writes durable across an OS crash or power cut without holding the event loop
 * for the disk. `synchronous=FULL` would fsync the WAL inside every COMMIT, and better-sqlite3
 * runs COMMIT on the event loop: about 6 ms per commit on this machine's disk, during which no
 * request (not even /health/live) is served. Instead the connection commits with NORMAL (the WAL
 * is written, not synced) and this flushes the WAL on the thread pool after each group commit;
 * the commit's callers (the ack) settle only after the flush. What reaches disk is then exactly
 * what FULL guarantees: every acknowledged write. Up to `maxFlushes` run at once (each started
 * after its call, so it covers every commit made before it); past that, every commit made
 * meanwhile shares the next one, so a slow disk batches more writes per flush instead of
 * queueing flushes.
 *
 * The WAL file lives as long as a connection is open (SQLite deletes it when the last connection
 * closes), so one descriptor serves the store's lifetime; fdatasync flushes the file whatever
 * descriptor wrote it. SQLite takes no locks on the WAL file itself, so this descriptor cannot
 * disturb its locking.
 *
 * @example
 * const log = createSqliteLogSync({ path: './data/bot.db' });
 * commit.run(); await log.sync(); // now answer the caller
 */
export function createSqliteLogSync({
  path,
  flush = fdatasyncAsync,
  maxFlushes = 1,
}: SqliteLogSyncOptions): SqliteLogSync {
  // Opened on first use: the WAL exists once the connection has switched to WAL mode.
  let fd: number | undefined;
  const running = new Set<Promise<void>>();
  let next: Promise<void> | undefined;
  let closed = false;

  function flushNow(): Promise<void> {
    fd ??= openSync(`${path}-wal`, 'r+');
    return flush(fd);
  }

  function start(): Promise<void> {
    const run: Promise<void> = Promise.resolve()
      .then(flushNow)
      .finally(() => {
        running.delete(run);
      });
    running.add(run);
    return run;
  }

  return {
    sync() {
      if (closed) return Promise.reject(new Error('SQLite log sync is closed'));
      if (running.size < maxFlushes) return start();
      // Flushes are running, but they may have started before this commit's frames were written.
      next ??= Promise.race([...running].map((run) => run.catch(() => undefined))).then(() => {
        next = undefined;
        return start();
      });
      return next;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...running, next]);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

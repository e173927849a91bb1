import { setImmediate as nextTurn } from 'node:timers';
import Database from 'better-sqlite3';
import { errorMessage } from '../util/error-message.js';
import { startSqliteCheckpointer } from './sqlite-checkpointer.js';
import { toSqliteStoreError } from './sqlite-errors.js';
import { createSqliteLogSync, STORE_LOG_FLUSHES } from './sqlite-log-sync.js';
import { migrateSqliteSchema } from './sqlite-schema.js';
import { StoreUnavailableError } from './store.js';

export interface SqliteConnectionOptions {
  /**
   * How long one statement waits, synchronously, for another connection's lock. better-sqlite3
   * waits on the event loop, so nothing else is served meanwhile: keep it short. A write waits
   * longer without holding the loop (the group commit's `lockWaitMs`).
   */
  busyTimeoutMs?: number;
  /** The same while the file is opened and migrated, before the process serves anything. */
  openBusyTimeoutMs?: number;
  /** How often the background checkpointer folds the WAL into the database file (file stores). */
  checkpointIntervalMs?: number;
  /** WAL size past which the checkpointer empties the log (sqlite-checkpointer.ts): its disk bound. */
  walLimitBytes?: number;
  /** How the WAL is flushed to disk after each commit (sqlite-log-sync.ts); tests wrap it. */
  flushLog?: (fd: number) => Promise<void>;
}

export interface SqliteConnection {
  readonly db: Database.Database;
  /** Resolves once every commit made before the call is on disk (at once for `:memory:`). */
  syncLog(): Promise<void>;
  /** Stops the checkpointer after its last checkpoint, then closes the database. */
  close(): Promise<void>;
}

/** Automatic checkpoint interval (pages) when the checkpointer cannot run: SQLite's own default. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 1_000;

/**
 * Every setting the store's connection runs with, in one place, each with the reason it is set.
 * Durability (`synchronous`, with the log flush of sqlite-log-sync.ts) and lock waiting
 * (`busy_timeout`) are the ones a deployment may need to trade differently; change them here
 * and nowhere else.
 */
function applyConnectionSettings(db: Database.Database): void {
  // Readers never block the writer nor the writer them, and the checkpointer's PASSIVE
  // checkpoints (sqlite-checkpointer.ts) need a write-ahead log.
  db.pragma('journal_mode = WAL');
  // An acknowledged event must survive an OS crash or power cut, not only a process crash. FULL
  // would fsync the log inside every COMMIT, on the event loop (about 6 ms a commit on this
  // machine's disk, with nothing served meanwhile). NORMAL writes the log without syncing, and
  // the store flushes it on the thread pool after each group commit before any caller of that
  // commit is answered (sqlite-log-sync.ts): FULL's guarantee, off the loop. A file store
  // without that flush must not run with NORMAL, which alone may lose the last commits.
  db.pragma('synchronous = NORMAL');
  // Group commit runs each write in a savepoint; their statement journal outgrows SQLite's
  // in-memory spill limit within one batch and would otherwise go to a temporary FILE, created
  // and deleted every few commits (half the cost of an admission). It holds one batch's pages.
  db.pragma('temp_store = MEMORY');
}

function setBusyTimeout(db: Database.Database, ms: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
}

/**
 * Opens the SQLite file a store runs on: connection settings applied, schema migrated, and, for a
 * file, the background checkpointer that keeps WAL checkpoints out of commits and the WAL bounded.
 * Throws StoreUnavailableError when the file cannot be opened or prepared.
 *
 * @example
 * const { db, close } = openSqliteConnection('./data/bot.db', { busyTimeoutMs: 10 });
 */
export function openSqliteConnection(
  path: string,
  {
    busyTimeoutMs = 10,
    openBusyTimeoutMs = 5_000,
    checkpointIntervalMs = 1_000,
    walLimitBytes,
    flushLog,
  }: SqliteConnectionOptions = {},
): SqliteConnection {
  let db: Database.Database;
  try {
    // Opening and migrating may wait for another process's write (PM2 processes share one file);
    // nothing is served yet, so this wait may be long.
    db = new Database(path, { timeout: openBusyTimeoutMs });
  } catch (error) {
    // Whatever the reason (missing directory, permissions, not a database), there is no store.
    throw new StoreUnavailableError(`cannot open SQLite store at "${path}": ${errorMessage(error)}`, { cause: error });
  }
  try {
    applyConnectionSettings(db);
    migrateSqliteSchema(db);
    // From here on the process serves requests: a statement waits for another connection's lock
    // only briefly, on the loop. A write that meets a held lock is retried asynchronously with
    // back-off by the group commit (sqlite-group-commit.ts) and fails as unavailable (503, Feishu
    // retries) only past its budget; a read rarely waits at all in WAL mode.
    setBusyTimeout(db, busyTimeoutMs);
  } catch (error) {
    db.close();
    throw toSqliteStoreError(error, `cannot prepare SQLite store at "${path}"`);
  }

  let closed = false;
  let truncateScheduled = false;
  /** Empties the WAL (sqlite-checkpointer.ts explains why the writer must be the one to do it). */
  const truncateWal = (): void => {
    truncateScheduled = false;
    if (closed) return;
    try {
      // Another process writing (PM2 cluster) may hold the lock: the short busy timeout waits
      // briefly, else the next checkpoint asks again.
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Nothing to do: a failed truncate leaves the WAL as it was, and the next one retries.
    }
  };
  const checkpointer =
    path === ':memory:' || path === ''
      ? undefined
      : startSqliteCheckpointer({
          path,
          intervalMs: checkpointIntervalMs,
          walLimitBytes,
          onWalFull: () => {
            if (truncateScheduled) return;
            truncateScheduled = true;
            // Between two group commits (each runs in its own turn), where nothing can append.
            nextTurn(truncateWal);
          },
          // Without the worker, SQLite's own checkpoints keep the WAL bounded (at some latency).
          onFailure: () => {
            if (!closed) db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
          },
        });
  // The worker checkpoints instead: an automatic checkpoint would run inside a commit (an ack).
  if (checkpointer) db.pragma('wal_autocheckpoint = 0');

  const logSync =
    checkpointer === undefined
      ? undefined
      : createSqliteLogSync({ path, flush: flushLog, maxFlushes: STORE_LOG_FLUSHES });

  return {
    db,
    syncLog: () => logSync?.sync() ?? Promise.resolve(),
    async close() {
      if (closed) return;
      closed = true;
      await logSync?.close();
      await checkpointer?.close();
      db.close();
    },
  };
}

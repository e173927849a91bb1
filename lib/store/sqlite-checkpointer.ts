import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the event loop. With automatic checkpoints, the commit that
 * happens to cross 1000 WAL pages copies them into the database file and syncs it, inside a
 * webhook ack: that was the whole p99 tail of the ack (about 10 ms on this disk, against under
 * 1 ms without it). A worker thread with its own connection checkpoints PASSIVE on a timer
 * instead; PASSIVE never waits for or blocks the writers.
 *
 * PASSIVE alone does not bound the WAL. SQLite starts the log over only when a write begins
 * after a checkpoint has copied every frame; under steady writes (group commits every few
 * milliseconds) new frames always arrive while the copy runs, so the log never restarts and the
 * file grows without end (24 GB in four minutes of the memory bench). A TRUNCATE checkpoint from
 * this worker does not help either: it needs the write lock, and a writer that commits back to
 * back starves SQLite's sleeping busy handler. So once the log passes `walLimitBytes` the worker
 * tells the writer (`onWalFull`), and the writer runs the TRUNCATE checkpoint between two of its
 * own commits, where nothing can append: it copies the few frames PASSIVE left, syncs and empties
 * the file. The event loop pauses for that, once per `walLimitBytes` of log.
 *
 * The worker is inline source, so it runs the same under tsx, vitest and the compiled dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path, { timeout: 0 });
const pageSize = db.pragma('page_size', { simple: true });
const checkpoint = () => {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
    if (passive.log * pageSize > workerData.walLimitBytes) parentPort.postMessage({ walFull: passive.log * pageSize });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

export interface SqliteCheckpointer {
  /** Stops the worker after one last checkpoint; resolves when it has exited. */
  close(): Promise<void>;
}

/**
 * @example
 * db.pragma('wal_autocheckpoint = 0');
 * const checkpointer = startSqliteCheckpointer({
 *   path,
 *   onWalFull: () => db.pragma('wal_checkpoint(TRUNCATE)'),
 *   onFailure: () => db.pragma('wal_autocheckpoint = 1000'),
 * });
 */
export function startSqliteCheckpointer({
  path,
  intervalMs = 1_000,
  walLimitBytes = 64 * 1024 * 1024,
  onWalFull,
  onFailure,
  closeTimeoutMs = 2_000,
}: {
  path: string;
  intervalMs?: number;
  /** WAL size past which `onWalFull` is called after each checkpoint (see above). */
  walLimitBytes?: number;
  /** The writer should run `wal_checkpoint(TRUNCATE)` between its commits. */
  onWalFull: (walBytes: number) => void;
  /** The worker died or cannot checkpoint: the caller turns automatic checkpoints back on. */
  onFailure: (error: unknown) => void;
  closeTimeoutMs?: number;
}): SqliteCheckpointer {
  const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, intervalMs, modulePath, walLimitBytes },
  });
  // A checkpointer must never keep a draining process alive.
  worker.unref();
  let failed = false;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    onFailure(error);
  };
  worker.on('message', (message: { error?: string; walFull?: number }) => {
    if (message.error !== undefined) fail(new Error(message.error));
    if (message.walFull !== undefined) onWalFull(message.walFull);
  });
  worker.on('error', fail);
  let closing = false;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      if (!closing && code !== 0) fail(new Error(`SQLite checkpointer exited with code ${code}`));
      resolve();
    }),
  );
  return {
    async close() {
      closing = true;
      worker.postMessage('close');
      const timer = setTimeout(() => void worker.terminate(), closeTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

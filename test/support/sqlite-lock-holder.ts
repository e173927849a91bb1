import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';

/** Another process holding a SQLite file's write lock, as a second PM2 process in a long write would. */
export interface SqliteLockHolder {
  /** Commits the other process's transaction (the lock is free afterwards) and waits for it to exit. */
  release(): Promise<void>;
}

// CommonJS for `node -e`: opens the file, takes the write lock, says so, and holds it until told.
const HOLDER_SOURCE = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2], { timeout: 5000 });
db.exec('BEGIN IMMEDIATE');
db.prepare("CREATE TABLE IF NOT EXISTS lock_holder (at INTEGER)").run();
process.stdout.write('LOCKED\\n');
process.stdin.once('data', () => {
  db.exec('COMMIT');
  db.close();
  process.exit(0);
});
`;

/**
 * Starts a child process that opens `path` with better-sqlite3 and holds `BEGIN IMMEDIATE` until
 * `release()`; resolves once the lock is held.
 *
 * @example
 * const holder = await holdSqliteWriteLock('./data/bot.db');
 * // … the bot's writes now wait for the lock …
 * await holder.release();
 */
export async function holdSqliteWriteLock(path: string, { timeoutMs = 15_000 } = {}): Promise<SqliteLockHolder> {
  const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const child: ChildProcess = spawn(process.execPath, ['-e', HOLDER_SOURCE, modulePath, path], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // Never outlive the test, whatever happens to it.
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  killer.unref();
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the lock holder did not take the lock')), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('LOCKED')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return {
    async release() {
      if (child.exitCode === null) child.stdin?.write('release\n');
      await exited;
      clearTimeout(killer);
    },
  };
}

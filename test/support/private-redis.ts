/**
 * A private `redis-server` for one test (its own port and directory), configured the way
 * docs/scaling.md recommends for production: AOF on, fsync on every write, no RDB snapshots,
 * so a crash or restart keeps every acknowledged write. Tests stop and start it to simulate an
 * outage without touching the shared Redis other suites use.
 *
 * @example
 * const redis = await startPrivateRedis();
 * await redis.stop();      // SIGKILL: the outage
 * await redis.start();     // same port, same data directory
 * await redis.close();     // stops it and removes the directory
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, sleep } from './bot-process.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

const running = new Set<ChildProcess>();
// A crashed test runner must not leave a redis-server behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface PrivateRedis {
  readonly port: number;
  readonly directory: string;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Starts it again on the same port and directory (after `stop`); resolves once it answers PING. */
  start(): Promise<void>;
  /** Ends it abruptly (SIGKILL, like a crashed host) or politely (SHUTDOWN NOSAVE); resolves once it exited. */
  stop(how?: 'kill' | 'shutdown'): Promise<void>;
  close(): Promise<void>;
}

/**
 * True when a redis-server binary is installed. Like test/support/requirements.ts: on a machine
 * without it the suite is skipped with a printed reason; under CI=true that is a failure.
 */
export function requireRedisServer(): boolean {
  if (spawnSync(REDIS_SERVER, ['--version']).status === 0) return true;
  const reason = `${REDIS_SERVER} not found (apt-get install redis-server)`;
  if (process.env.CI === 'true') throw new Error(`redis-server is required under CI=true: ${reason}`);
  console.warn(`[skip] private Redis suites skipped: ${reason}`);
  return false;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const directory = mkdtempSync(join(tmpdir(), 'private-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  async function start(): Promise<void> {
    child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        directory,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const current = child;
    running.add(current);
    current.once('exit', () => running.delete(current));
    current.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    });
    current.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    });
    exited = new Promise((resolve) => current.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (current.exitCode !== null) throw new Error(`redis-server exited at start:\n${output}`);
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // Not listening yet (or still loading the AOF).
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING:\n${output}`);
      await sleep(50);
    }
  }

  async function stop(how: 'kill' | 'shutdown' = 'kill'): Promise<void> {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    if (how === 'kill') current.kill('SIGKILL');
    else {
      const admin = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      admin.on('error', () => {});
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      admin.disconnect();
    }
    const timer = setTimeout(() => current.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    port,
    directory,
    url,
    start,
    stop,
    async close() {
      await stop('kill');
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

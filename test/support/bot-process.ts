/**
 * The real service as a child process, for process-level tests (crash recovery, scale-out,
 * Redis outage): `node dist/server.js` configured from the environment exactly as in production,
 * its JSON log lines collected (bounded), its port read from the `listening` line (PORT=0), and
 * readiness awaited on `/health/ready`.
 *
 * Every process started here is remembered until it exits, so `killBotProcesses()` in an
 * afterEach/afterAll ends them even when a test failed half-way.
 *
 * @example
 * const bot = await startBotProcess({ env: { ...fake.env(), STORE_URL: `sqlite:${file}` } });
 * await postEvent(`${bot.url}/webhook/event`, event, { encryptKey });
 * bot.kill('SIGKILL');
 * await bot.exited;
 * // afterEach(() => killBotProcesses());
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPOSITORY = resolve(import.meta.dirname, '../..');

/** One parsed JSON line the child printed on stdout (pino lines, or a fixture's milestones). */
export type LogLine = Record<string, unknown>;

export interface BotProcessOptions {
  /** Added to the parent's environment. PORT defaults to 0, HOST to 127.0.0.1, LOG_LEVEL to info. */
  env: Record<string, string>;
  /**
   * What to run (node arguments): default the built service `['dist/server.js']` (built first
   * when a source is newer). A fixture such as `['--import', 'tsx', 'test/support/ingress-server.ts']`
   * works too when it prints `{"listening": port}` or a pino `listening` line with `port`.
   */
  args?: readonly string[];
  /** Wait for `/health/ready` to answer 200 before resolving (default true). */
  waitReady?: boolean;
  /** Start-up budget: listening plus ready (default 45 s: tsx or a cold SDK import is slow on 2 cores). */
  startTimeoutMs?: number;
  /** Parsed lines kept (oldest dropped first). Default 5 000. */
  maxLogLines?: number;
  /** Shown in errors, to tell two instances apart. */
  name?: string;
}

export interface BotProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Parsed JSON lines so far, oldest first (bounded). */
  logs(): readonly LogLine[];
  /** The tail of stderr and non-JSON stdout (bounded), for failure messages. */
  output(): string;
  /** Resolves with the first line (seen already or later) that matches; rejects on timeout or exit. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (graceful drain), SIGKILL after `timeoutMs`; resolves with how it exited. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
let built = false;

/** SIGKILLs every child started by `startBotProcess` that is still running, and waits for them. */
export async function killBotProcesses(): Promise<void> {
  const running = [...live];
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolvePromise) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
          child.once('exit', () => resolvePromise());
          child.kill('SIGKILL');
        }),
    ),
  );
}

// A crashed test runner must not leave services behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Builds dist/ when a source is newer than dist/server.js (as `npm start` does). Test files run
 * in parallel workers, so a lock directory keeps two workers from running tsc into dist/ at once.
 */
export function ensureBuilt(): void {
  if (built) return;
  const lock = join(tmpdir(), 'feishu-bot-build.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker builds; a lock older than 3 minutes belongs to a dead build.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmdirSync(lock);
      } catch {}
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: REPOSITORY, stdio: 'pipe' });
    built = true;
  } catch (error) {
    const output = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`build failed:\n${output.stdout?.toString() ?? ''}${output.stderr?.toString() ?? ''}`);
  } finally {
    rmdirSync(lock);
  }
}

/** A port free right now on 127.0.0.1 (for processes that must share or reuse one, like PM2 cluster or a restarted Redis). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const address = server.address();
  await new Promise((resolvePromise) => server.close(resolvePromise));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `url` until `accept(status)` or the deadline; 'down' while nothing answers. */
export async function waitForStatus(
  url: string,
  accept: (status: number | 'down') => boolean,
  timeoutMs = 20_000,
): Promise<number | 'down'> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await httpStatus(url);
    if (accept(status)) return status;
    if (Date.now() > deadline) throw new Error(`${url} answered ${status} until the deadline`);
    await sleep(50);
  }
}

/** The HTTP status of a GET, or 'down' when nothing answers within a second. */
export async function httpStatus(url: string): Promise<number | 'down'> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'down';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

function listeningPort(line: LogLine): number | undefined {
  if (typeof line.listening === 'number') return line.listening;
  if (line.msg === 'listening' && typeof line.port === 'number') return line.port;
  return undefined;
}

/**
 * Starts the service (or a fixture) as a child process and resolves once it listens and, by
 * default, answers `/health/ready` with 200. Rejects (and kills the child) when it does not.
 */
export async function startBotProcess({
  env,
  args = ['dist/server.js'],
  waitReady = true,
  startTimeoutMs = 45_000,
  maxLogLines = 5_000,
  name = 'bot',
}: BotProcessOptions): Promise<BotProcess> {
  if (args[0] === 'dist/server.js') ensureBuilt();
  const child = spawn(process.execPath, [...args], {
    cwd: REPOSITORY,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolvePromise({ code, signal });
    }),
  );
  const lines: LogLine[] = [];
  let rawTail = '';
  const keepRaw = (text: string) => {
    rawTail = (rawTail + text).slice(-8_000);
  };
  const waiters = new Set<(line: LogLine) => void>();
  child.stderr?.on('data', (chunk: Buffer) => keepRaw(chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      line = parsed as LogLine;
    } catch {
      keepRaw(`${text}\n`);
      return;
    }
    lines.push(line);
    if (lines.length > maxLogLines) lines.splice(0, lines.length - maxLogLines);
    for (const waiter of [...waiters]) waiter(line);
  });

  const output = () => rawTail;
  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const finish = (error?: Error, line?: LogLine) => {
        clearTimeout(timer);
        waiters.delete(onLine);
        if (error) reject(error);
        else resolvePromise(line as LogLine);
      };
      const onLine = (line: LogLine) => {
        if (match(line)) finish(undefined, line);
      };
      const timer = setTimeout(
        () => finish(new Error(`${name}: no matching log line within ${timeoutMs} ms; output:\n${output()}`)),
        timeoutMs,
      );
      waiters.add(onLine);
      void exited.then(({ code, signal }) =>
        finish(new Error(`${name} exited (${code ?? signal}) before the log line; output:\n${output()}`)),
      );
    });
  };

  try {
    const started = Date.now();
    const port = listeningPort(await waitForLog((line) => listeningPort(line) !== undefined, startTimeoutMs));
    if (port === undefined) throw new Error('unreachable: the listening line had no port');
    const url = `http://127.0.0.1:${port}`;
    if (waitReady) {
      const remaining = Math.max(1_000, startTimeoutMs - (Date.now() - started));
      await Promise.race([
        waitForStatus(`${url}/health/ready`, (status) => status === 200, remaining),
        exited.then(({ code, signal }) => {
          throw new Error(`${name} exited (${code ?? signal}) before it was ready; output:\n${output()}`);
        }),
      ]);
    }
    const kill = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    return {
      name,
      child,
      pid: child.pid ?? 0,
      port,
      url,
      logs: () => lines,
      output,
      waitForLog,
      kill,
      exited,
      async stop(timeoutMs = 15_000) {
        kill('SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
}

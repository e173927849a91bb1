/**
 * The real service (`dist/server.js` with the real ecosystem.config.js) under a real PM2 daemon
 * with an isolated PM2_HOME (pm2-harness.ts), for tests and the soak that need PM2's own restarts,
 * reloads and stops, and a process that answers before each resolves. Only the name, logs, port,
 * drain budget and environment are changed, through the harness's wrapper file.
 *
 * Why a fixed port per service: PM2 restarts the same app, and the senders must find it again.
 * The port is picked free on 127.0.0.1 once and reused by every incarnation.
 *
 * @example
 * const service = await startPm2Service({ env: { ...fake.env(), STORE_URL: `sqlite:${file}` } });
 * await postEvent(service.webhookUrl, event, { encryptKey });
 * await service.reload();
 * await service.close(); // pm2 kill, temp directory removed
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { REPOSITORY } from './bot-process.js';
import { startPm2Harness } from './pm2-harness.js';

export interface AppState {
  status: string | undefined;
  pid: number;
  restarts: number;
}

export interface Pm2ServiceOptions {
  /** App environment on top of NODE_ENV=development, HOST, PORT, ENABLE_DEVTOOLS=false. */
  env: Record<string, string>;
  /** PM2 app name (default `feishu-bot-pm2`). */
  name?: string;
  /** The app's drain budget; kill_timeout is this plus 5 s, as in ecosystem.config.js. */
  shutdownTimeoutMs?: number;
  /** Rebuild dist/ when a source is newer (default true; the soak builds before it starts). */
  build?: boolean;
  /** Node flags added to the app's (e.g. a preload). */
  extraNodeArgs?: string[];
}

export interface Pm2Service {
  readonly name: string;
  readonly home: string;
  readonly port: number;
  readonly baseUrl: string;
  readonly webhookUrl: string;
  describe(): Promise<AppState>;
  /** GET /health/ready status, or 'down' when nothing answers. */
  readyStatus(): Promise<number | 'down'>;
  /** `pm2 reload` (fork mode: graceful stop, then start); resolves once a new process is online. */
  reload(): Promise<AppState>;
  /** `pm2 stop`: PM2 sends its shutdown message and waits up to kill_timeout. */
  stop(): Promise<AppState>;
  /** `pm2 restart` of a stopped app; resolves once online. */
  restart(): Promise<AppState>;
  /** SIGKILL the PM2-managed pid and wait until PM2 has a new process online. */
  killHard(): Promise<{ killedPid: number; state: AppState }>;
  /** The app's JSON log lines, every incarnation (PM2 prefixes each with a timestamp). */
  appLog(): Array<Record<string, unknown>>;
  /** The daemon's log (exit codes and signals, "still alive after" when it had to SIGKILL). */
  daemonLog(): string;
  /** Every exit PM2 saw: signal SIGINT means the process exited by itself after the shutdown message. */
  appExits(): Array<{ code: number; signal: string }>;
  /** `pm2 kill` and remove PM2_HOME. Safe to call twice. */
  close(options?: { keepHome?: boolean }): Promise<void>;
}

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const address = server.address();
  await new Promise((resolvePromise) => server.close(resolvePromise));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, intervalMs));
  }
}

/** Starts the app under a fresh PM2 daemon and resolves once PM2 reports it online (after 'ready'). */
export async function startPm2Service({
  env,
  name = 'feishu-bot-pm2',
  shutdownTimeoutMs = 10_000,
  build = true,
  extraNodeArgs = [],
}: Pm2ServiceOptions): Promise<Pm2Service> {
  // dist/ must match the sources: rebuild only when a source is newer (as `npm start` does).
  if (build) execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: REPOSITORY, stdio: 'pipe' });
  const pm2 = await startPm2Harness({ prefix: 'pm2-service-' });
  const port = await freePort();
  const appEnvironment = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    ENABLE_DEVTOOLS: 'false',
    LOG_LEVEL: 'info',
    ...env,
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  async function describe(): Promise<AppState> {
    const [description] = await pm2.describe(name);
    return {
      status: description?.pm2_env?.status,
      pid: description?.pid ?? 0,
      restarts: description?.pm2_env?.restart_time ?? 0,
    };
  }
  async function readyStatus(): Promise<number | 'down'> {
    try {
      const response = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 'down';
    }
  }
  const onlineOtherThan = (pid: number) =>
    waitUntil(
      `a new online process (old pid ${pid})`,
      async () => {
        const state = await describe();
        return state.status === 'online' && state.pid > 0 && state.pid !== pid && (await readyStatus()) === 200
          ? state
          : undefined;
      },
      { timeoutMs: 60_000 },
    );

  try {
    // The real ecosystem app; only its name, logs, drain budget and environment are changed.
    await pm2.startApp({
      name,
      env: appEnvironment,
      overrides: { kill_timeout: shutdownTimeoutMs + 5_000 },
      extraNodeArgs,
    });
    await onlineOtherThan(0);
  } catch (error) {
    await pm2.close({ keepHome: true });
    throw error;
  }

  return {
    name,
    home: pm2.home,
    port,
    baseUrl,
    webhookUrl: `${baseUrl}/webhook/event`,
    describe,
    readyStatus,
    async reload() {
      const before = await describe();
      await pm2.reload(name);
      return onlineOtherThan(before.pid);
    },
    async stop() {
      await pm2.stop(name);
      return describe();
    },
    async restart() {
      const before = await describe();
      await pm2.restart(name);
      return onlineOtherThan(before.pid);
    },
    async killHard() {
      const before = await describe();
      if (before.pid <= 0) throw new Error(`no process to kill (status ${before.status})`);
      process.kill(before.pid, 'SIGKILL');
      return { killedPid: before.pid, state: await onlineOtherThan(before.pid) };
    },
    appLog: () => pm2.appLog(),
    daemonLog: () => pm2.daemonLog(),
    appExits: () =>
      [...pm2.daemonLog().matchAll(/exited with code \[(\w+)\] via signal \[(\w+)\]/g)].map((match) => ({
        code: Number(match[1]),
        signal: match[2] ?? '',
      })),
    close: (options) => pm2.close(options),
  };
}

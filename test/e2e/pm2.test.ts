/**
 * The service under real PM2, with an isolated PM2_HOME: it is `online` only after it said
 * ready, PM2 restarts it after a SIGKILL, and `pm2 reload` / `pm2 stop` drain it cleanly (exit 0,
 * no SIGKILL from PM2). The app runs the built `dist/server.js` with the real ecosystem.config.js,
 * wrapped only to point logs, port and store into a temp directory.
 *
 * Extending: the "no half-open cards, no lost job" checks slot in as more `it` blocks between
 * reload and stop — start the fake Feishu/OpenAI servers in beforeAll, pass their URLs through
 * `appEnvironment`, send a message before the reload and assert on the fakes afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repository = resolve(import.meta.dirname, '../..');
const appName = 'feishu-bot-e2e';
const startDelayMs = 1_500;

interface Pm2Description {
  pid?: number;
  pm2_env?: { status?: string; restart_time?: number };
}
type Callback<T = unknown> = (error: Error | null, result: T) => void;
/** The few calls of PM2's programmatic API this test uses (pm2's own types lack `custom`). */
interface Pm2Api {
  connect(callback: Callback): void;
  start(configFile: string, callback: Callback): void;
  describe(name: string, callback: Callback<Pm2Description[]>): void;
  reload(name: string, callback: Callback): void;
  stop(name: string, callback: Callback): void;
  killDaemon(callback: Callback): void;
  disconnect(): void;
}

let home: string;
let port: number;
let pm2: Pm2Api;
let outLog: string;

function call<T>(method: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolvePromise, reject) =>
    method((error, result) => (error ? reject(error) : resolvePromise(result))),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const address = server.address();
  await new Promise((resolvePromise) => server.close(resolvePromise));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function describeApp(): Promise<{ status: string | undefined; pid: number; restarts: number }> {
  const [description] = await call<Pm2Description[]>((callback) => pm2.describe(appName, callback));
  return {
    status: description?.pm2_env?.status,
    pid: description?.pid ?? 0,
    restarts: description?.pm2_env?.restart_time ?? 0,
  };
}

async function readyStatus(): Promise<number | 'down'> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'down';
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
  }
}

/** The app's JSON log lines (PM2 prefixes each with a timestamp). */
function appLog(): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(outLog, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.slice(line.indexOf('{')))
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

function daemonLog(): string {
  return readFileSync(join(home, 'pm2.log'), 'utf8');
}

/** Every exit of the app PM2 saw. PM2 prints signal SIGINT when the process exited by itself. */
function appExits(): Array<{ code: number; signal: string }> {
  return [...daemonLog().matchAll(/exited with code \[(\w+)\] via signal \[(\w+)\]/g)].map((match) => ({
    code: Number(match[1]),
    signal: match[2]!,
  }));
}

const drainsCompleted = () => appLog().filter((line) => line.msg === 'shutdown: drain completed');

describe('under real PM2', () => {
  beforeAll(async () => {
    // dist/ must match the sources: rebuild only when a source is newer (as `npm start` does).
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: repository, stdio: 'pipe' });
    home = mkdtempSync(join(tmpdir(), 'pm2-e2e-'));
    port = await freePort();
    outLog = join(home, 'app-out.log');
    const appEnvironment = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      STORE_URL: `sqlite:${join(home, 'bot.db')}`,
      LOG_LEVEL: 'info',
      ENABLE_DEVTOOLS: 'false',
      E2E_START_DELAY_MS: String(startDelayMs),
    };
    // The real ecosystem file, with logs and environment pointed into the temp directory.
    const wrapper = join(home, 'ecosystem.config.cjs');
    writeFileSync(
      wrapper,
      `const { apps } = require(${JSON.stringify(join(repository, 'ecosystem.config.js'))});
module.exports = { apps: [{
  ...apps[0],
  name: ${JSON.stringify(appName)},
  node_args: [...apps[0].node_args, '--import', ${JSON.stringify(join(repository, 'test/e2e/fixtures/delay-start.mjs'))}],
  out_file: ${JSON.stringify(outLog)},
  error_file: ${JSON.stringify(join(home, 'app-error.log'))},
  env: { ...apps[0].env, ...${JSON.stringify(appEnvironment)} },
}] };
`,
    );
    process.env.PM2_HOME = home;
    const require = createRequire(import.meta.url);
    const { custom } = require('pm2') as { custom: new (options: { pm2_home: string }) => Pm2Api };
    pm2 = new custom({ pm2_home: home });
    await call((callback) => pm2.connect(callback));

    // Watch PM2's status and readiness while it starts the app.
    const samples: Array<{ status: string | undefined; ready: number | 'down' }> = [];
    let started = false;
    const watching = (async () => {
      while (!started) {
        const { status } = await describeApp().catch(() => ({ status: undefined }));
        samples.push({ status, ready: await readyStatus() });
        await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
      }
    })();
    await call((callback) => pm2.start(wrapper, callback));
    started = true;
    await watching;
    startSamples.push(...samples);
    readyAtStart = await readyStatus();
  }, 180_000);

  afterAll(async () => {
    if (pm2 !== undefined) {
      await call((callback) => pm2.killDaemon(callback)).catch(() => {});
      pm2.disconnect();
    }
    if (home !== undefined) rmSync(home, { recursive: true, force: true });
  }, 60_000);

  const startSamples: Array<{ status: string | undefined; ready: number | 'down' }> = [];
  let readyAtStart: number | 'down' = 'down';

  it('is online only once the app has said ready', async () => {
    // pm2 start returned after the ready message: the app answers ready at once.
    expect(readyAtStart).toBe(200);
    expect((await describeApp()).status).toBe('online');
    // While the start was held, PM2 showed it launching, not online, and it did not answer.
    expect(startSamples.some((sample) => sample.status === 'launching' && sample.ready === 'down')).toBe(true);
    // Every time PM2 said online, the app was ready.
    const onlineSamples = startSamples.filter((sample) => sample.status === 'online');
    expect(onlineSamples.every((sample) => sample.ready === 200)).toBe(true);
    expect(appLog().some((line) => line.msg === 'listening')).toBe(true);
  });

  it('restarts the app after SIGKILL', async () => {
    const before = await describeApp();
    process.kill(before.pid, 'SIGKILL');
    const after = await waitFor('a new online process', async () => {
      const current = await describeApp();
      return current.status === 'online' && current.pid !== before.pid && current.pid > 0 ? current : undefined;
    });
    expect(after.restarts).toBe(before.restarts + 1);
    expect(await readyStatus()).toBe(200);
    expect(appExits()).toEqual([{ code: 0, signal: 'SIGKILL' }]);
    // Killed, so no drain ran.
    expect(drainsCompleted()).toHaveLength(0);
  }, 60_000);

  it('drains cleanly on pm2 reload: exit 0, no SIGKILL, new process ready', async () => {
    const before = await describeApp();
    await call((callback) => pm2.reload(appName, callback));
    const after = await waitFor('the reloaded process', async () => {
      const current = await describeApp();
      return current.status === 'online' && current.pid !== before.pid ? current : undefined;
    });
    expect(after.pid).not.toBe(before.pid);
    expect(await readyStatus()).toBe(200);
    expect(drainsCompleted()).toMatchObject([{ reason: 'pm2 shutdown message', exitCode: 0 }]);
    expect(appExits().at(-1)).toEqual({ code: 0, signal: 'SIGINT' });
    expect(daemonLog()).not.toMatch(/still alive after/);
  }, 60_000);

  it('drains cleanly on pm2 stop: exit 0, no SIGKILL, stopped', async () => {
    await call((callback) => pm2.stop(appName, callback));
    expect((await describeApp()).status).toBe('stopped');
    expect(await readyStatus()).toBe('down');
    const drains = drainsCompleted();
    expect(drains).toHaveLength(2);
    expect(drains[1]).toMatchObject({ reason: 'pm2 shutdown message', exitCode: 0 });
    expect(appExits().slice(1)).toEqual([
      { code: 0, signal: 'SIGINT' },
      { code: 0, signal: 'SIGINT' },
    ]);
    expect(daemonLog()).not.toMatch(/still alive after/);
    // The drain ran its steps in order and closed the store last.
    const steps = appLog()
      .filter((line) => line.msg === 'shutdown step done')
      .slice(-5)
      .map((line) => line.step);
    expect(steps).toEqual([
      'stop accepting',
      'drain dispatcher',
      'close server',
      'close devtools tracker',
      'close store',
    ]);
  }, 60_000);
});

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
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, httpStatus, REPOSITORY } from '../support/bot-process.js';
import { type Pm2Harness, startPm2Harness } from '../support/pm2-harness.js';

const appName = 'feishu-bot-e2e';
const startDelayMs = 1_500;

let pm2: Pm2Harness;
let port: number;

async function describeApp(): Promise<{ status: string | undefined; pid: number; restarts: number }> {
  const [description] = await pm2.describe(appName);
  return {
    status: description?.pm2_env?.status,
    pid: description?.pid ?? 0,
    restarts: description?.pm2_env?.restart_time ?? 0,
  };
}

const readyStatus = () => httpStatus(`http://127.0.0.1:${port}/health/ready`);

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
const appLog = () => pm2.appLog();
const daemonLog = () => pm2.daemonLog();

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
    ensureBuilt();
    pm2 = await startPm2Harness({ prefix: 'pm2-e2e-' });
    port = await freePort();
    const appEnvironment = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      STORE_URL: `sqlite:${join(pm2.home, 'bot.db')}`,
      LOG_LEVEL: 'info',
      ENABLE_DEVTOOLS: 'false',
      E2E_START_DELAY_MS: String(startDelayMs),
    };

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
    // The real ecosystem file, with logs and environment pointed into the temp directory.
    await pm2.startApp({
      name: appName,
      env: appEnvironment,
      extraNodeArgs: ['--import', join(REPOSITORY, 'test/e2e/fixtures/delay-start.mjs')],
    });
    started = true;
    await watching;
    startSamples.push(...samples);
    readyAtStart = await readyStatus();
  }, 180_000);

  afterAll(async () => {
    await pm2?.close();
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
    await pm2.reload(appName);
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
    await pm2.stop(appName);
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
      .map((line) => line.step);
    expect(steps.slice(steps.lastIndexOf('stop accepting'))).toEqual([
      'stop accepting',
      'stop scheduler',
      'drain dispatcher',
      'close server',
      'close MCP servers',
      'stop the extraction worker',
      'close devtools tracker',
      'close store',
    ]);
  }, 60_000);
});

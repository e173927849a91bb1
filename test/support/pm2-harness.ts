/**
 * Real PM2 for e2e tests, isolated in a temp PM2_HOME so it never touches a developer's PM2:
 * the programmatic API (connect / start / describe / delete / killDaemon) promisified, and the
 * app's JSON log lines read back from the out file PM2 writes (each prefixed with a timestamp).
 *
 * The app is started from a small CommonJS wrapper written into PM2_HOME that takes the real
 * ecosystem.config.js and only points name, logs and environment into the temp directory.
 *
 * @example
 * const pm2 = await startPm2Harness({ prefix: 'pm2-cluster-' });
 * await pm2.startApp({ name: 'bot', env: { PORT: '3456' }, overrides: { instances: 2, exec_mode: 'cluster' } });
 * const processes = await pm2.describe('bot');
 * await pm2.close();
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY } from './bot-process.js';

export interface Pm2Description {
  pid?: number;
  pm_id?: number;
  pm2_env?: { status?: string; restart_time?: number; NODE_APP_INSTANCE?: number; exec_mode?: string };
}
type Callback<T = unknown> = (error: Error | null, result: T) => void;
/** The few calls of PM2's programmatic API the tests use (pm2's own types lack `custom`). */
interface Pm2Api {
  connect(callback: Callback): void;
  start(configFile: string, callback: Callback): void;
  restart(name: string, callback: Callback): void;
  describe(name: string, callback: Callback<Pm2Description[]>): void;
  reload(name: string, callback: Callback): void;
  stop(name: string, callback: Callback): void;
  delete(name: string, callback: Callback): void;
  killDaemon(callback: Callback): void;
  disconnect(): void;
}

export interface Pm2Harness {
  readonly home: string;
  readonly outLog: string;
  /**
   * Starts the real ecosystem app under `name`, with `env` merged into its env and `overrides`
   * into the app object (e.g. `{ instances: 2, exec_mode: 'cluster' }`). Resolves when PM2 says
   * it started (with wait_ready: once every instance said ready).
   */
  startApp(options: {
    name: string;
    env: Record<string, string>;
    overrides?: Record<string, unknown>;
    /** Appended to the ecosystem file's node_args (e.g. `['--import', fixture]`). */
    extraNodeArgs?: readonly string[];
  }): Promise<void>;
  describe(name: string): Promise<Pm2Description[]>;
  reload(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** The app's JSON log lines so far (all instances: merge_logs). */
  appLog(): Array<Record<string, unknown>>;
  /** PM2's own daemon log. */
  daemonLog(): string;
  /** Kills the daemon (and with it every app) and removes PM2_HOME unless kept. Safe to call twice. */
  close(options?: { keepHome?: boolean }): Promise<void>;
}

function call<T>(method: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolvePromise, reject) =>
    method((error, result) => (error ? reject(error) : resolvePromise(result))),
  );
}

/** JSON lines of a PM2 log file, each after the timestamp PM2 puts before it; other lines skipped. */
function parseJsonLines(text: string): Array<Record<string, unknown>> {
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

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export async function startPm2Harness({ prefix = 'pm2-e2e-' }: { prefix?: string } = {}): Promise<Pm2Harness> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const outLog = join(home, 'app-out.log');
  process.env.PM2_HOME = home;
  const require = createRequire(import.meta.url);
  const { custom } = require('pm2') as { custom: new (options: { pm2_home: string }) => Pm2Api };
  const pm2 = new custom({ pm2_home: home });
  await call((callback) => pm2.connect(callback));
  let closed = false;

  return {
    home,
    outLog,
    async startApp({ name, env, overrides = {}, extraNodeArgs = [] }) {
      const wrapper = join(home, `${name}.config.cjs`);
      writeFileSync(
        wrapper,
        `const { apps } = require(${JSON.stringify(join(REPOSITORY, 'ecosystem.config.js'))});
module.exports = { apps: [{
  ...apps[0],
  ...${JSON.stringify(overrides)},
  node_args: [...(apps[0].node_args ?? []), ...${JSON.stringify(extraNodeArgs)}],
  name: ${JSON.stringify(name)},
  out_file: ${JSON.stringify(outLog)},
  error_file: ${JSON.stringify(join(home, 'app-error.log'))},
  env: { ...apps[0].env, ...${JSON.stringify(env)} },
}] };
`,
      );
      await call((callback) => pm2.start(wrapper, callback));
    },
    describe: (name) => call<Pm2Description[]>((callback) => pm2.describe(name, callback)),
    reload: async (name) => {
      await call((callback) => pm2.reload(name, callback));
    },
    stop: async (name) => {
      await call((callback) => pm2.stop(name, callback));
    },
    restart: async (name) => {
      await call((callback) => pm2.restart(name, callback));
    },
    appLog: () => parseJsonLines(readOrEmpty(outLog)),
    daemonLog: () => readOrEmpty(join(home, 'pm2.log')),
    async close({ keepHome = false } = {}) {
      if (closed) return;
      closed = true;
      await call((callback) => pm2.killDaemon(callback)).catch(() => {});
      pm2.disconnect();
      if (!keepHome) rmSync(home, { recursive: true, force: true });
    },
  };
}

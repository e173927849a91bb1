/**
 * PM2 process file: `npm run pm2:start`, i.e. `pm2 start ecosystem.config.js --env production` with the
 * project's own pm2 (see docs/operations.md).
 *
 * Why `export const apps` and not `module.exports`: package.json says "type": "module", so Node
 * reads every .js file as ESM, where `module.exports` throws. PM2 loads this file with
 * require(); on Node ≥ 20.19 that returns the module namespace, and PM2 reads its `apps`.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';

// The app reads .env itself; read it here too so kill_timeout follows a SHUTDOWN_TIMEOUT_MS set
// only there (else PM2 could SIGKILL a drain that is still within its budget).
const envFile = join(import.meta.dirname, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

/** Must match SHUTDOWN_TIMEOUT_MS of the app (its drain budget). */
const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000);

/**
 * How many processes: one, in fork mode, unless BOT_INSTANCES says otherwise. BOT_INSTANCES=N
 * (or "max": one per core) runs N in PM2 cluster mode on the one port; they share the store
 * (SQLite WAL on one host, or Redis), which keeps dedupe, leases and lanes (docs/scaling.md).
 */
const instancesSetting = process.env.BOT_INSTANCES ?? '1';
if (instancesSetting !== 'max' && !/^[1-9][0-9]*$/.test(instancesSetting)) {
  throw new Error(`BOT_INSTANCES must be a positive integer or "max", got "${instancesSetting}"`);
}
const instances = instancesSetting === 'max' ? 'max' : Number(instancesSetting);

export const apps = [
  {
    name: 'feishu-bot',
    script: 'dist/server.js',
    cwd: import.meta.dirname,
    exec_mode: instances === 1 ? 'fork' : 'cluster',
    instances,
    node_args: ['--enable-source-maps'],

    // Online only once the app says so: it sends 'ready' after the server listens and the store is open.
    wait_ready: true,
    listen_timeout: 20_000,

    // Stop: PM2 sends the 'shutdown' message (same path as SIGINT), the app drains within its
    // budget and exits 0; kill_timeout leaves 5 s on top before PM2 would SIGKILL.
    shutdown_with_message: true,
    kill_timeout: shutdownTimeoutMs + 5_000,

    // Restarts: a leak restarts gracefully; a crash loop backs off (100 ms doubling to 15 s) and,
    // after 10 starts that each died within 10 s, PM2 gives up (status errored) instead of spinning.
    autorestart: true,
    max_memory_restart: '512M',
    exp_backoff_restart_delay: 100,
    max_restarts: 10,
    min_uptime: '10s',

    // Logs: the app writes JSON lines (pino, with their own `time`); PM2 adds a timestamp prefix so
    // non-JSON lines (start-up errors, Node warnings) are dated too. Rotate with pm2-logrotate.
    out_file: './logs/out.log',
    error_file: './logs/error.log',
    merge_logs: true,
    log_date_format: 'YYYY-MM-DDTHH:mm:ss.SSSZ',

    env: {
      NODE_ENV: 'development',
    },
    env_production: {
      NODE_ENV: 'production',
    },
  },
];

/**
 * A server for the load benchmarks, in its own process (started by `startChildServer` in
 * bench-support.ts) so the load generator does not share its event loop.
 *
 *   node --import tsx test/bench/bench-server.ts bare | read | verify | sdk
 *   node --import tsx test/bench/bench-server.ts bot <sqlite-file> <noop|hold>
 *
 * - `bare`: a Hono route answering 200 `{"ok":true}` on @hono/node-server, nothing else: the
 *   same-run baseline. `read`: the same route reading and parsing the body. `verify`: the bot's
 *   app and webhook routes (decryption, signature, token) with an inbox that stores nothing.
 *   Together they show where the ack's time goes over real HTTP. `sdk`: the Lark SDK's own
 *   webhook receiver (`adaptDefault` + `EventDispatcher`, same encrypt key and token) with a
 *   handler that stores nothing; its STATS line counts the events it dispatched.
 * - `bot`: the real service from `startBot` (webhook mode, encrypt key + verification token from
 *   BENCH_ENCRYPT_KEY / BENCH_VERIFICATION_TOKEN, a SQLite FILE store, devtools off as in
 *   production), with the Feishu API
 *   pointed at an in-process fake Feishu so nothing leaves the machine. Its 'answer' handler is
 *   `noop` (each job completes at once, so the process also claims and completes every job while
 *   it acks) or `hold` (each job waits until shutdown: a model that never answers).
 *
 * Prints `READY {"port":…}` once listening and, on SIGTERM, `STATS {…}` (memory, CPU since ready,
 * jobs) before it exits.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { type ServerType, serve } from '@hono/node-server';
import * as lark from '@larksuiteoapi/node-sdk';
import { Hono } from 'hono';
import { createApp } from '../../lib/app.js';
import { startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { webhookRoutes } from '../../lib/feishu/webhook/webhook-routes.js';
import type { InboxReceiver } from '../../lib/inbox/inbound-event.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { startFakeFeishu } from '../fakes/fake-feishu.js';
import { mainThreadCpuMicros } from './main-thread-cpu.js';

const [mode, storePath, handlerMode = 'noop'] = process.argv.slice(2);

function announce(line: 'READY' | 'STATS', value: Record<string, unknown>): void {
  process.stdout.write(`${line} ${JSON.stringify(value)}\n`);
}

/** CPU the server spent since it was ready (both threads' time: the checkpointer's too), in µs. */
let cpuAtReady: NodeJS.CpuUsage | undefined;
/** The main thread's CPU at ready (main-thread-cpu.ts): the loop's own share of the figures. */
let mainThreadCpuAtReady: number | undefined;
/** The event loop's busy share since ready: near 1 means the server's one thread is the limit. */
let loopAtReady: EventLoopUtilization | undefined;
function markReady(value: Record<string, unknown>): void {
  cpuAtReady = process.cpuUsage();
  mainThreadCpuAtReady = mainThreadCpuMicros();
  loopAtReady = performance.eventLoopUtilization();
  announce('READY', value);
}

function onTerminate(stop: () => Promise<Record<string, unknown>>): void {
  process.once('SIGTERM', () => {
    const cpu = process.cpuUsage(cpuAtReady);
    const mainThreadCpu = mainThreadCpuMicros();
    const loop = performance.eventLoopUtilization(loopAtReady);
    stop().then(
      (stats) => {
        announce('STATS', {
          rssBytes: process.memoryUsage().rss,
          cpuMicros: cpu.user + cpu.system,
          ...(mainThreadCpu !== undefined && mainThreadCpuAtReady !== undefined
            ? { mainThreadCpuMicros: Math.round(mainThreadCpu - mainThreadCpuAtReady) }
            : {}),
          eventLoopUtilization: Number(loop.utilization.toFixed(3)),
          eventLoopBusyMicros: Math.round(loop.active * 1000),
          ...stats,
        });
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`bench server stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}

/**
 * The bot's real app and webhook routes (middleware, body limit, decryption, signature, token)
 * in front of an inbox that writes nothing: what the ack costs before its durable write.
 */
function verifyOnlyApp(): Hono {
  const log = silentLogger();
  const bus = createEventBus();
  const inbox: InboxReceiver = { accept: async () => ({ status: 'accepted', jobId: 'not-stored' }) };
  const routes = webhookRoutes({
    inbox,
    encryptKey: process.env.BENCH_ENCRYPT_KEY ?? 'bench-encrypt-key',
    verificationToken: process.env.BENCH_VERIFICATION_TOKEN ?? 'bench-verification-token',
    maxSkewSeconds: 300,
    log,
    bus,
  });
  return createApp({ log, routes: [{ path: '/webhook', app: routes }] });
}

/**
 * The Lark SDK's own webhook receiver: `adaptDefault` + `EventDispatcher` with the same encrypt
 * key and token on Node's http server. It decrypts, checks the signature and dispatches to a
 * handler that stores nothing: the yardstick a durable ack is compared with.
 */
async function sdkDispatcherServer(): Promise<{ server: Server; handled: () => number }> {
  let handled = 0;
  const dispatcher = new lark.EventDispatcher({
    encryptKey: process.env.BENCH_ENCRYPT_KEY ?? 'bench-encrypt-key',
    verificationToken: process.env.BENCH_VERIFICATION_TOKEN ?? 'bench-verification-token',
    loggerLevel: lark.LoggerLevel.error,
  }).register({
    'im.message.receive_v1': async () => {
      handled += 1;
    },
  });
  const server = createServer(lark.adaptDefault('/webhook/event', dispatcher, { autoChallenge: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, handled: () => handled };
}

if (mode === 'sdk') {
  const { server, handled } = await sdkDispatcherServer();
  markReady({ port: (server.address() as AddressInfo).port });
  onTerminate(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return { handled: handled() };
  });
} else if (mode === 'bare' || mode === 'read' || mode === 'verify') {
  const app =
    mode === 'verify'
      ? verifyOnlyApp()
      : new Hono().post('/webhook/event', async (c) => {
          if (mode === 'read') JSON.parse(await c.req.text());
          return c.json({ ok: true });
        });
  const server = await new Promise<ServerType>((resolve) => {
    const created = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(created));
  });
  markReady({ port: (server.address() as AddressInfo).port });
  onTerminate(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return {};
  });
} else if (mode === 'bot' && storePath !== undefined) {
  const fake = await startFakeFeishu();
  let completed = 0;
  const bot = await startBot(
    loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...fake.env(),
      FEISHU_ENCRYPT_KEY: process.env.BENCH_ENCRYPT_KEY ?? 'bench-encrypt-key',
      FEISHU_VERIFICATION_TOKEN: process.env.BENCH_VERIFICATION_TOKEN ?? 'bench-verification-token',
      STORE_URL: storePath.startsWith('redis://') ? storePath : `sqlite:${storePath}`,
      // Every event of the run is an answer job, never a "busy" notice.
      MAX_BACKLOG: '10000000',
      // One sender, many events a minute: the flood caps at the door (4 × these limits) must
      // not drop what the bench means to store.
      USER_MESSAGES_PER_MINUTE: '100000000',
      CHAT_MESSAGES_PER_MINUTE: '100000000',
      // As in production (NODE_ENV=production turns devtools off unless asked for).
      ENABLE_DEVTOOLS: 'false',
      SHUTDOWN_TIMEOUT_MS: '200',
    }),
    {
      log: silentLogger(),
      handlers: () => ({
        answer:
          handlerMode === 'hold'
            ? ({ signal }) =>
                new Promise<void>((_resolve, reject) => {
                  signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
                })
            : async () => {
                completed += 1;
              },
      }),
    },
  );
  markReady({ port: bot.port, handler: handlerMode });
  onTerminate(async () => {
    await bot.stop();
    await fake.close();
    return { answered: completed };
  });
} else {
  process.stderr.write('usage: bench-server.ts bare | read | verify | sdk | bot <sqlite-file> <noop|hold>\n');
  process.exit(2);
}

import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createEventBus, type EventBus } from './observe/event-bus.js';
import { createReadiness, type Readiness } from './process/readiness.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface RunningBot {
  config: Config;
  log: Logger;
  store: Store;
  bus: EventBus;
  readiness: Readiness;
  app: Hono;
  server: ServerType;
  /** The bound port (PORT=0 picks a free one, as tests do). */
  port: number;
  /** Drains and closes everything; resolves when it is safe to exit. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the whole service for one config. server.ts calls it; integration tests
 * call it in-process with PORT=0 and fake Feishu/OpenAI URLs.
 */
export async function startBot(config: Config, { log: givenLog }: { log?: Logger } = {}): Promise<RunningBot> {
  const log =
    givenLog ??
    createLogger({ level: config.logLevel, secrets: config.secrets, base: { instance: config.instanceId } });
  for (const notice of config.notices) log.warn(notice);

  const readiness = createReadiness();
  const bus = createEventBus({ onListenerError: (error) => log.error({ err: error }, 'event observer failed') });
  const store = await openStore(config.store.url, { instanceId: config.instanceId });
  const startedAt = Date.now();

  const health = new Hono();
  health.get('/health/live', (c) => c.json({ status: 'alive' }));
  health.get('/health/ready', (c) => c.json({ status: readiness.phase }, readiness.phase === 'ready' ? 200 : 503));
  health.get('/health', (c) =>
    c.json({
      status: 'healthy',
      uptime: (Date.now() - startedAt) / 1000,
      timestamp: new Date().toISOString(),
      window: { seconds: config.health.windowSeconds },
      errors: { total: 0, rateLimits: 0, timeouts: 0, other: 0, byCategory: {} },
      agents: {},
      lastError: null,
    }),
  );

  const app = createApp({ log, bodyLimitBytes: config.feishu.bodyLimitBytes, routes: [{ path: '/', app: health }] });

  const server = await new Promise<ServerType>((resolve) => {
    const created = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(created));
  });
  const port = (server.address() as AddressInfo).port;
  readiness.markReady();
  log.info({ port, host: config.host, store: store.kind }, 'listening');
  if (typeof process.send === 'function') process.send('ready');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      readiness.markDraining();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    })();
    return stopping;
  };

  return { config, log, store, bus, readiness, app, server, port, stop };
}

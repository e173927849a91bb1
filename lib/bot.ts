import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createDevtoolsReplies, type DevtoolsReplies } from './devtools/devtools-replies.js';
import { devtoolsRoutes } from './devtools/devtools-routes.js';
import { createTracker, type Tracker } from './devtools/tracker.js';
import { type BotIdentity, fetchBotIdentity } from './feishu/bot-identity.js';
import { createFeishuClient, type FeishuClient } from './feishu/feishu-client.js';
import { type LongConnection, startLongConnection } from './feishu/long-connection.js';
import { webhookRoutes } from './feishu/webhook/webhook-routes.js';
import { createBusyNoticeHandler } from './inbox/busy-notice.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './inbox/dispatcher.js';
import { createInbox, type Inbox } from './inbox/inbox.js';
import type { JobHandler } from './inbox/job-handler.js';
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
  /** Every transport (webhook, long connection, devtools playground) feeds this one inbox. */
  inbox: Inbox;
  dispatcher: Dispatcher;
  /** Present when FEISHU_APP_ID/SECRET are set. */
  feishu:
    | {
        client: FeishuClient;
        /** The bot's open_id (bot/v3/info), fetched once with retries and cached. */
        identity(): Promise<BotIdentity>;
        /** Present in FEISHU_EVENT_MODE=websocket: its `status()` is the connection state for /health. */
        connection: LongConnection | undefined;
      }
    | undefined;
  /** Present when config.devtools.enabled: the tracker (bus observer) and the playground's reply sinks. */
  devtools: { tracker: Tracker; replies: DevtoolsReplies } | undefined;
  /** Drains and closes everything; resolves when it is safe to exit. */
  stop(): Promise<void>;
}

/** What job handlers are built from (the Feishu client to reply with, the store for memory, …). */
export interface JobHandlerDependencies {
  config: Config;
  log: Logger;
  store: Store;
  bus: EventBus;
  feishuClient: FeishuClient | undefined;
  botIdentity: (() => Promise<BotIdentity>) | undefined;
  /**
   * Where answers to devtools playground messages go: when an InboundEvent's source is
   * 'devtools', answer into `devtoolsReplies.sinkFor(traceId)` instead of a Feishu card.
   * Undefined when devtools are off (no playground messages arrive then).
   */
  devtoolsReplies: DevtoolsReplies | undefined;
}

export interface StartBotOptions {
  log?: Logger;
  /**
   * Job handlers by kind ('answer', 'notice'). Until the conversation step is wired in here,
   * callers (tests, the crash-recovery server script) supply 'answer'. A kind without a handler
   * is never claimed: its jobs wait durably for a process that has one.
   */
  handlers?: (dependencies: JobHandlerDependencies) => Record<string, JobHandler>;
  /** Dispatcher timing overrides (tests shrink them). */
  dispatcher?: Partial<
    Pick<DispatcherOptions, 'pollIntervalMs' | 'retryBackoffMs' | 'abortGraceMs' | 'noticeConcurrency'>
  >;
}

/**
 * Builds and starts the whole service for one config. server.ts calls it; integration tests
 * call it in-process with PORT=0 and fake Feishu/OpenAI URLs.
 */
export async function startBot(
  config: Config,
  { log: givenLog, handlers: buildHandlers, dispatcher: dispatcherTuning = {} }: StartBotOptions = {},
): Promise<RunningBot> {
  const log =
    givenLog ??
    createLogger({ level: config.logLevel, secrets: config.secrets, base: { instance: config.instanceId } });
  for (const notice of config.notices) log.warn(notice);

  const readiness = createReadiness();
  const bus = createEventBus({ onListenerError: (error) => log.error({ err: error }, 'event observer failed') });
  const store = await openStore(config.store.url, { instanceId: config.instanceId });
  const startedAt = Date.now();
  // The tracker subscribes before anything emits, so a trace starts at its very first event.
  const devtools = config.devtools.enabled
    ? {
        tracker: createTracker({
          bus,
          store,
          ringSize: config.devtools.ringSize,
          traceRetention: config.devtools.traceRetention,
          secrets: config.secrets,
          onError: (error, where) => log.warn({ err: error, where }, 'devtools tracker'),
        }),
        replies: createDevtoolsReplies(),
      }
    : undefined;
  await devtools?.tracker.load();

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

  // ── ingress: Feishu client, inbox, dispatcher, webhook or long connection ──
  const feishuClient =
    config.feishu.enabled && config.feishu.appId && config.feishu.appSecret
      ? createFeishuClient({
          appId: config.feishu.appId,
          appSecret: config.feishu.appSecret,
          domain: config.feishu.domain,
        })
      : undefined;
  const botIdentity = feishuClient ? () => fetchBotIdentity(feishuClient) : undefined;
  // Warm the cache in the background: a slow Feishu must not hold up start-up.
  botIdentity?.().catch((error: unknown) => log.warn({ err: error }, 'bot identity not available yet'));
  const handlerDependencies: JobHandlerDependencies = {
    config,
    log,
    store,
    bus,
    feishuClient,
    botIdentity,
    devtoolsReplies: devtools?.replies,
  };
  const handlers: Record<string, JobHandler> = {
    notice: createBusyNoticeHandler({ client: feishuClient, log }),
    // INTEGRATOR: add `answer: createMessageHandler(...)` from lib/conversation/handle-message.ts here
    // (and drop it from the test-supplied handlers) once the conversation step lands.
    ...buildHandlers?.(handlerDependencies),
  };
  if (!('answer' in handlers)) log.warn('no answer handler wired: messages are stored but not answered yet');
  const dispatcher = createDispatcher({
    store,
    bus,
    log,
    owner: config.instanceId,
    handlers,
    concurrency: config.inbox.maxConcurrentJobs,
    leaseMs: config.inbox.leaseMs,
    maxAttempts: config.inbox.maxAttempts,
    ...dispatcherTuning,
  });
  const inbox = createInbox({
    store,
    bus,
    log,
    dedupeTtlMs: config.inbox.dedupeTtlMs,
    maxBacklog: config.inbox.maxBacklog,
    onEnqueued: () => dispatcher.wake(),
  });
  const routes = [{ path: '/', app: health }];
  if (feishuClient && config.feishu.eventMode === 'webhook') {
    routes.push({
      path: '/webhook',
      app: webhookRoutes({
        inbox,
        encryptKey: config.feishu.encryptKey,
        verificationToken: config.feishu.verificationToken,
        maxSkewSeconds: config.feishu.maxSkewSeconds,
        log,
        bus,
      }),
    });
  }

  if (devtools) {
    routes.push({
      path: '/devtools',
      app: devtoolsRoutes({
        tracker: devtools.tracker,
        replies: devtools.replies,
        inbox,
        store,
        // Exactly what GET /health answers, whoever serves it (`app` exists by the time a request comes).
        healthSnapshot: async () => (await app.request('/health')).json(),
        token: config.devtools.token,
        maxChatChars: config.policy.maxInputChars,
      }),
    });
  }

  const app = createApp({ log, bodyLimitBytes: config.feishu.bodyLimitBytes, routes });

  const server = await new Promise<ServerType>((resolve) => {
    const created = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(created));
  });
  const port = (server.address() as AddressInfo).port;
  // Recovery: jobs whose holder died (expired lease) are claimed on the first pump.
  dispatcher.start();
  const connection =
    feishuClient && config.feishu.eventMode === 'websocket' && config.feishu.appId && config.feishu.appSecret
      ? startLongConnection({
          appId: config.feishu.appId,
          appSecret: config.feishu.appSecret,
          domain: config.feishu.domain,
          inbox,
          log,
          bus,
        })
      : undefined;
  if (connection) {
    // Long connection: ready only once the SDK says the handshake succeeded.
    connection.ready.then(
      () => readiness.markReady(),
      (error: unknown) => log.error({ err: error }, 'long connection failed: not ready'),
    );
  } else {
    readiness.markReady();
  }
  log.info({ port, host: config.host, store: store.kind }, 'listening');
  if (typeof process.send === 'function') process.send('ready');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      readiness.markDraining();
      connection?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Running answers get the shutdown budget; the rest are handed back for the next process.
      await dispatcher.drain(config.shutdownTimeoutMs);
      await devtools?.tracker.close(); // writes finished traces before the store closes
      await store.close();
    })();
    return stopping;
  };

  const feishu = feishuClient && botIdentity ? { client: feishuClient, identity: botIdentity, connection } : undefined;
  return { config, log, store, bus, readiness, app, server, port, inbox, dispatcher, feishu, devtools, stop };
}

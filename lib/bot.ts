import { randomUUID } from 'node:crypto';
import type { ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { createManagerAgentFromConfig } from './agents/manager-agent.js';
import { defaultToolRegistry } from './agents/tools/built-in-tools.js';
import type { UserAuthorization } from './agents/tools/user-authorization.js';
import { createApp, type RouteModule } from './app.js';
import { type Config, isLoopbackHost } from './config.js';
import {
  BOT_ADDED_EVENT,
  BOT_REMOVED_EVENT,
  CHAT_MEMBERSHIP_KIND,
  type ChatMembership,
} from './conversation/chat-membership.js';
import type { ChatSettings } from './conversation/chat-settings.js';
import { createRunStops } from './conversation/run-stops.js';
import { createTurnResolverFromConfig } from './conversation/turn-resolver-from-config.js';
import { readPriceFile } from './cost/price-file.js';
import { createPriceTable } from './cost/price-table.js';
import { createSpendLedger } from './cost/spend-ledger.js';
import { attachUsageAccounting } from './cost/usage-accounting.js';
import { createAttachmentThumbnails } from './devtools/attachment-thumbnails.js';
import { createDevtoolsReplies, type DevtoolsReplies } from './devtools/devtools-replies.js';
import { devtoolsRoutes } from './devtools/devtools-routes.js';
import { readMetricTotals } from './devtools/metric-totals.js';
import { devtoolsSpendOf } from './devtools/spend-routes.js';
import { createTracker, type Tracker } from './devtools/tracker.js';
import type { BotIdentity } from './feishu/bot-identity.js';
import { DEFAULT_APP_ID, type FeishuApp } from './feishu/feishu-apps.js';
import type { FeishuClient } from './feishu/feishu-client.js';
import { type LongConnection, startLongConnection } from './feishu/long-connection.js';
import { startCardWatchdog } from './feishu/reply/card-watchdog.js';
import { webhookRoutes } from './feishu/webhook/webhook-routes.js';
import { createFeishuAppBase, createFeishuAppRuntime, type FeishuAppRuntime } from './feishu-app-runtime.js';
import { componentStates } from './health/component-states.js';
import { type ConcurrencyReport, concurrencyReport } from './health/concurrency-report.js';
import { attachHealthMonitor, HealthMonitor, healthOptionsFromConfig } from './health/health-monitor.js';
import { type HealthRoutesOptions, healthReport, healthRoutes, type ReadinessCheck } from './health/health-routes.js';
import { type BotMetrics, createMetrics, metricsRoutes } from './health/metrics.js';
import { watchStoreWrites } from './health/store-write-health.js';
import { listen } from './http/listen.js';
import { rootRoute } from './http/root-route.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './inbox/dispatcher.js';
import { type Housekeeping, startHousekeeping } from './inbox/housekeeping.js';
import type { InboxReceiver } from './inbox/inbound-event.js';
import { BUSY_NOTICE_KIND, createInbox, type Inbox, MESSAGE_EVENT_TYPE } from './inbox/inbox.js';
import type { JobHandler } from './inbox/job-handler.js';
import { createLogger, type Logger, resolveLogFormat } from './log.js';
import { createEventBus, type EventBus } from './observe/event-bus.js';
import { logBotEvents } from './observe/log-bot-events.js';
import { createRedactor } from './observe/redact.js';
import {
  closeServer,
  createGracefulShutdown,
  type GracefulShutdown,
  type ShutdownStep,
} from './process/graceful-shutdown.js';
import { installProcessHandlers as installGlobalProcessHandlers } from './process/process-handlers.js';
import { createReadiness, type Readiness } from './process/readiness.js';
import { formatStartupBanner, packageVersion, startupSummary } from './process/startup-summary.js';
import { notifyRoutes } from './schedules/notify-routes.js';
import { createScheduleService } from './schedules/schedule-service.js';
import { createScheduleTools } from './schedules/schedule-tools.js';
import { createScheduler } from './schedules/scheduler.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { PERSON_DEPARTED_KIND, USER_DELETED_EVENT } from './user-auth/person-departed.js';
import { userAuthFromConfig } from './user-auth/user-auth-from-config.js';

/** A chat or sender may store this many times its per-minute rate limit before messages are dropped. */
const FLOOD_CAP_FACTOR = 4;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A job payload's `appId`, when it names one. */
function appIdOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.appId === 'string' ? value.appId : undefined;
}

export interface RunningBot {
  config: Config;
  log: Logger;
  store: Store;
  bus: EventBus;
  readiness: Readiness;
  /** Watches agent calls, errors, rate limits and the long connection (fed from the bus). */
  monitor: HealthMonitor;
  /** Prometheus registry behind GET /metrics (fed from the bus). */
  metrics: BotMetrics;
  /** Signals, PM2's 'shutdown' message and the drain steps; `stop()` is `lifecycle.drain()`. */
  lifecycle: GracefulShutdown;
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
  /** Every Feishu app served, by its id (`default` for FEISHU_APP_ID); `feishu` is the default (or first) one. */
  feishuApps: ReadonlyMap<
    string,
    { client: FeishuClient; identity(): Promise<BotIdentity>; connection: LongConnection | undefined }
  >;
  /** Present when config.devtools.enabled: the tracker (bus observer) and the playground's reply sinks. */
  devtools: { tracker: Tracker; replies: DevtoolsReplies } | undefined;
  /**
   * Expires approvals nobody decided on by `now` (a timer does it every 30 s); returns how many.
   * Undefined when write tools cannot ask (no Feishu channel or no agent).
   */
  expireApprovals: ((now?: number) => Promise<number>) | undefined;
  /** Per-chat settings and the groups the bot joined or left (devtools, housekeeping). */
  chats: { settings: ChatSettings; membership: ChatMembership };
  /** The periodic clean-up of the store; `runOnce()` runs a pass now. */
  housekeeping: Housekeeping;
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
   * Extra or replacement job handlers by kind ('answer', 'notice'), e.g. a slow stand-in answer
   * for ingress tests. By default 'answer' runs the manager agent (when a model is configured) and
   * 'notice' sends the busy reply. A kind without a handler is never claimed: its jobs wait
   * durably for a process that has one.
   */
  handlers?: (dependencies: JobHandlerDependencies) => Record<string, JobHandler>;
  /** Dispatcher timing overrides (tests shrink them). */
  dispatcher?: Partial<
    Pick<DispatcherOptions, 'pollIntervalMs' | 'retryBackoffMs' | 'abortGraceMs' | 'reservedConcurrency'>
  >;
  /** The schedules' clock and poll interval, so tests move time to a due schedule instead of waiting. */
  schedules?: { now?: () => number; pollMs?: number };
  /**
   * Take over the process: SIGINT/SIGTERM/PM2 'shutdown' drain and exit, uncaughtException drains
   * and exits 1, unhandledRejection is logged and counted, and FATAL_UNHANDLED_REJECTIONS of them
   * within UNHANDLED_REJECTION_WINDOW_MS drain and exit 1 too. server.ts passes true; in-process
   * tests leave it off.
   */
  installProcessHandlers?: boolean;
  /** Default: a new monitor for this bot, configured from `config.health`. */
  monitor?: HealthMonitor;
  /**
   * Where tools acting as the asking user get that user's Feishu token (docs/tools.md). Default:
   * nobody is authorized, so those tools answer that they need the user's authorization.
   */
  userAuthorization?: UserAuthorization;
}

/**
 * Builds and starts the whole service for one config. server.ts calls it; integration tests
 * call it in-process with PORT=0 and fake Feishu/OpenAI URLs.
 */
export async function startBot(
  config: Config,
  {
    log: givenLog,
    handlers: buildHandlers,
    dispatcher: dispatcherTuning = {},
    schedules: scheduleTuning = {},
    installProcessHandlers = false,
    monitor: givenMonitor,
    userAuthorization: givenUserAuthorization,
  }: StartBotOptions = {},
): Promise<RunningBot> {
  const logFormat = resolveLogFormat(config.logFormat);
  const log =
    givenLog ??
    createLogger({
      level: config.logLevel,
      secrets: config.secrets,
      base: { instance: config.instanceId },
      pretty: logFormat === 'pretty',
    });
  for (const notice of config.notices) log.warn(notice);

  const readiness = createReadiness();
  const bus = createEventBus({ onListenerError: (error) => log.error({ err: error }, 'event observer failed') });
  // Every write of the bot goes through this store, so a failing one (a full disk) turns
  // /health/ready 503 until a write succeeds again.
  const storeWrites = watchStoreWrites(await openStore(config.store.url, { instanceId: config.instanceId }), {
    onChange: (failure) =>
      failure
        ? log.error({ error: failure.error }, 'store writes failing: not ready until one succeeds')
        : log.info('store writes succeed again'),
  });
  const store = storeWrites.store;
  const startedAt = Date.now();
  // The process's one health monitor is this instance: routes, metrics and callers get it from
  // here (`RunningBot.monitor`), so bots built in-process by tests never see each other's calls.
  const monitor =
    givenMonitor ??
    new HealthMonitor({
      ...healthOptionsFromConfig(config.health, config.secrets),
      onStatusChange: ({ from, to, reasons }) => log.warn({ from, to, reasons }, 'health status changed'),
    });
  attachHealthMonitor(bus, monitor);
  // The adaptive concurrency of agent runs, known once the model chain and dispatcher exist.
  let readConcurrency: (() => ConcurrencyReport | undefined) | undefined;
  const metrics = createMetrics({
    instanceId: config.instanceId,
    countJobs: () => store.countJobs(),
    monitor,
    concurrency: () => readConcurrency?.(),
    // Read per scrape; the manager (and its MCP servers) exists before the server listens.
    mcpServers: () => managerAgent?.mcp?.statuses() ?? [],
    apps: config.feishu.apps.length > 0 ? config.feishu.apps.map((app) => app.id) : [DEFAULT_APP_ID],
  });
  metrics.attach(bus);
  // Spend per chat, person, app and model: priced here, summed in the store for the budgets.
  const prices = createPriceTable(config.cost.pricesFile === undefined ? {} : readPriceFile(config.cost.pricesFile));
  // Jobs without an app id (the FEISHU_APP_ID app's, a playground message naming no other app)
  // belong to the default app.
  const primaryApp = config.feishu.apps.find((app) => app.id === DEFAULT_APP_ID) ?? config.feishu.apps[0];
  // One ledger per app: each bot's spend (and budget) in a chat is its own, named in the Spend tab.
  const spendLedgers = new Map(
    (config.feishu.apps.length > 0 ? config.feishu.apps.map((app) => app.id) : [DEFAULT_APP_ID]).map((appId) => [
      appId,
      createSpendLedger({ store, timeZone: config.cost.timeZone, appId }),
    ]),
  );
  const spendLedgerOf = (appId: string) =>
    spendLedgers.get(appId) ?? createSpendLedger({ store, timeZone: config.cost.timeZone, appId });
  attachUsageAccounting({
    bus,
    prices,
    ledgerFor: (app) => spendLedgers.get(app),
    appId: primaryApp?.id ?? DEFAULT_APP_ID,
    log,
  });
  logBotEvents(bus, log);
  /** Read per /health/ready request: the long connection adds its check once it exists. */
  const readinessChecks: ReadinessCheck[] = [storeWrites.check];
  // The tracker subscribes before anything emits, so a trace starts at its very first event.
  const devtools = config.devtools.enabled
    ? {
        tracker: createTracker({
          bus,
          store,
          ringSize: config.devtools.ringSize,
          traceRetention: config.devtools.traceRetention,
          secrets: config.secrets,
          prices,
          // Call, token and tool totals are the ones /metrics serves, not a count of its own.
          totals: () => readMetricTotals(metrics.registry),
          onError: (error, where) => log.warn({ err: error, where }, 'devtools tracker'),
        }),
        replies: createDevtoolsReplies({ bus, redact: createRedactor(config.secrets) }),
        // Previews of the images users sent, for the trace (memory only, bounded).
        thumbnails: createAttachmentThumbnails(),
      }
    : undefined;
  await devtools?.tracker.load();
  // Ends open devtools SSE streams when the drain starts, so a browser tab cannot hold the server open.
  const devtoolsShutdown = new AbortController();
  // Known once listening: the devtools loopback pass exists only while bound to loopback.
  let boundToLoopback = false;

  const healthOptions: HealthRoutesOptions = {
    concurrency: () => readConcurrency?.(),
    monitor,
    readiness,
    store,
    startedAt,
    checks: readinessChecks,
    instanceId: config.instanceId,
    components: componentStates({
      // The top-level row is the default (or first) app's; `feishu.apps` has one row per app.
      feishu: primaryApp === undefined ? config.feishu : { ...config.feishu, ...primaryApp },
      model: config.model,
      storeKind: store.kind,
      // Read per request: both exist by the time a request can arrive.
      connectionStatus: () => connection?.status(),
      canAnswer: () => 'answer' in handlers,
      mcpServers: () => managerAgent?.mcp?.statuses() ?? [],
      apps: () =>
        runtimes.flatMap((runtime) =>
          runtime.app === undefined
            ? []
            : [
                {
                  id: runtime.id,
                  settings: runtime.app,
                  path: runtime.app.eventMode === 'webhook' ? `/webhook/${runtime.id}/event` : undefined,
                  connection: connections.get(runtime.id)?.status(),
                  bot: knownBots.get(runtime.id),
                },
              ],
        ),
    }),
  };
  const health = healthRoutes(healthOptions);

  // ── ingress: one runtime per Feishu app (client, identity, replies, tools, handlers) over the
  // shared store, inbox, dispatcher and model chain; without Feishu, one runtime for devtools ──
  const served: readonly (FeishuApp | undefined)[] = config.feishu.apps.length > 0 ? config.feishu.apps : [undefined];
  /** Each app's bot (bot/v3/info) once known, for /health. */
  const knownBots = new Map<string, BotIdentity>();
  /** Phase one, per app: what the shared manager and user authorization are built over. */
  const appBases = served.map((app) =>
    createFeishuAppBase({
      app,
      config,
      bus,
      log,
      several: served.length > 1,
      onBotIdentity: (id, bot) => knownBots.set(id, bot),
    }),
  );
  const primary = appBases.find((base) => base.app === primaryApp) ?? (appBases[0] as (typeof appBases)[number]);
  const feishuClient = primary.client;
  const botIdentity = primary.identity;
  const userNames = primary.names;
  // Per-person authorization (TOKEN_ENCRYPTION_KEY + PUBLIC_BASE_URL): tools reading as the asker,
  // for every app with its own app id and secret, consent page, callback and tokens.
  const userAuth = userAuthFromConfig({
    config,
    apps: appBases.flatMap((base) =>
      base.app === undefined || base.client === undefined
        ? []
        : [{ app: base.app, client: base.client, log: base.log }],
    ),
    store,
    bus,
    log,
  });
  const userAuthorization = givenUserAuthorization ?? userAuth?.forApp(primary.id);
  const handlerDependencies: JobHandlerDependencies = {
    config,
    log,
    store,
    bus,
    feishuClient,
    botIdentity,
    devtoolsReplies: devtools?.replies,
  };
  // Schedules and notifications post into Feishu chats: without the Feishu channel they are off.
  const scheduleService = feishuClient
    ? createScheduleService({
        store,
        defaultTimeZone: config.schedules.defaultTimeZone,
        maxPerChat: config.schedules.maxPerChat,
        minIntervalMs: config.schedules.minIntervalMs,
        ...(scheduleTuning.now === undefined ? {} : { now: scheduleTuning.now }),
      })
    : undefined;
  // Without a model the 'answer' kind has no handler: messages wait durably for a process that has one.
  const managerAgent = config.model.enabled
    ? await createManagerAgentFromConfig({
        model: config.model,
        tools: config.tools,
        search: config.search,
        fetch: config.fetch,
        mcp: config.mcp,
        store,
        bus,
        log,
        feishuClient,
        maxConcurrency: config.inbox.maxConcurrentJobs,
        ...(userAuthorization === undefined ? {} : { userAuthorization }),
        ...(userNames === undefined ? {} : { resolveUserName: userNames.name }),
        ...(scheduleService === undefined ? {} : { extraTools: createScheduleTools(scheduleService) }),
      })
    : undefined;
  // Images, files, voice, quotes and forwarded bundles, resolved in the job (docs/messages.md).
  const attachmentWork = managerAgent
    ? createTurnResolverFromConfig({
        config,
        feishuClient,
        bus,
        log,
        botOpenId: primary.botOpenId,
        nameOf: userNames?.name,
        onImage: devtools
          ? (traceId, key, image) => {
              void devtools.thumbnails.add(traceId, key, image);
            }
          : undefined,
      })
    : undefined;
  const toolRegistry = defaultToolRegistry();
  // Stop requests and card buttons: the run's Stop control, a typed "stop", on either transport.
  const runStops = createRunStops({ store, log });
  const settingsNames = {
    tools: defaultToolRegistry().names(),
    specialists: managerAgent?.specialists.list().map((specialist) => specialist.name) ?? [],
  };

  /** Phase two, per app: everything that talks to Feishu as this app, and its job handlers. */
  const runtimes = appBases.map((base) =>
    createFeishuAppRuntime({
      base,
      primary: base === primary,
      config,
      store,
      bus,
      managerAgent,
      attachments: attachmentWork,
      toolRegistry,
      settingsNames,
      runStops,
      spendLedger: spendLedgerOf(base.id),
      devtoolsReplies: devtools?.replies,
      userAuth,
      schedules: scheduleService,
      // The dispatcher exists by the time anyone can press a button.
      wake: (kind) => dispatcher.wake(kind),
    }),
  );
  const primaryRuntime = runtimes[appBases.indexOf(primary)] as FeishuAppRuntime;
  const runtimeById = new Map(runtimes.map((runtime) => [runtime.id, runtime]));
  /**
   * The runtime of the app a job belongs to: the app id of its event, or of its proactive post's
   * target; none: the default app.
   */
  const runtimeOf = (payload: unknown): FeishuAppRuntime | undefined => {
    const appId = appIdOf(payload) ?? appIdOf(isRecord(payload) ? payload.target : undefined);
    return appId === undefined ? primaryRuntime : runtimeById.get(appId);
  };
  const chatSettings = primaryRuntime.chatSettings;
  const chatMembership = primaryRuntime.chatMembership;
  // Each kind runs the handler of the job's app: its client, identity, settings and tools.
  const handlers: Record<string, JobHandler> = {
    ...Object.fromEntries(
      Object.keys(primaryRuntime.handlers).map((kind): [string, JobHandler] => [
        kind,
        (context) => {
          const handler = runtimeOf(context.job.payload)?.handlers[kind];
          if (handler === undefined) throw new Error(`no ${kind} handler for the app of job ${context.job.id}`);
          return handler(context);
        },
      ]),
    ),
    ...buildHandlers?.(handlerDependencies),
  };
  const leaseOwner = `${config.instanceId}#${randomUUID().slice(0, 8)}`;
  if (!('answer' in handlers)) log.warn('no answer handler wired: messages are stored but not answered yet');
  const dispatcher = createDispatcher({
    store,
    bus,
    log,
    // Per boot: a restarted instance (same INSTANCE_ID under PM2) must not renew, complete or
    // hand back leases its previous incarnation held; those expire and are reclaimed instead.
    owner: leaseOwner,
    handlers,
    // Agent runs follow the model chain's adaptive limit (grows while the provider accepts,
    // halves on a 429), never past MAX_CONCURRENT_JOBS; the lanes keep each conversation in order.
    concurrency: managerAgent ? () => managerAgent.chain.concurrency().limit : config.inbox.maxConcurrentJobs,
    // A busy notice answers the overload itself: it must not wait for an agent slot.
    reservedKinds: [BUSY_NOTICE_KIND],
    leaseMs: config.inbox.leaseMs,
    maxAttempts: config.inbox.maxAttempts,
    // A message given up on must not leave its card streaming half an answer forever.
    onDeadLetter: async (job) => {
      // A job given up on will not retry: its cached downloads go now, not after a day.
      await attachmentWork?.turns.release(job.job.id);
      return (runtimeOf(job.job.payload) ?? primaryRuntime).deadLetter(job);
    },
    ...dispatcherTuning,
  });
  if (managerAgent) {
    const chain = managerAgent.chain;
    readConcurrency = () => concurrencyReport(chain.concurrency(), dispatcher.running().main);
    // A raised limit or a closed breaker admits more runs now, not at the next poll.
    bus.subscribe((event) => {
      if ((event.type === 'model.concurrency' && event.limit > event.previous) || event.type === 'model.breaker') {
        dispatcher.wake('answer');
      }
    });
  }
  const inbox = createInbox({
    store,
    bus,
    log,
    dedupeTtlMs: config.inbox.dedupeTtlMs,
    maxBacklog: config.inbox.maxBacklog,
    // Generous multiples of the rate limits: these count every message a chat stores (also those
    // not addressed to the bot), and past them the rate limits would answer nothing anyway.
    floodCaps: {
      perChat: FLOOD_CAP_FACTOR * config.policy.chatMessagesPerMinute,
      perUser: FLOOD_CAP_FACTOR * config.policy.userMessagesPerMinute,
    },
    jobKinds: {
      [MESSAGE_EVENT_TYPE]: 'answer',
      [BOT_ADDED_EVENT]: CHAT_MEMBERSHIP_KIND,
      [BOT_REMOVED_EVENT]: CHAT_MEMBERSHIP_KIND,
      ...(userAuth ? { [USER_DELETED_EVENT]: PERSON_DEPARTED_KIND } : {}),
    },
    onEnqueued: (job) => {
      dispatcher.wake(job.kind);
      runtimeOf(job.payload)?.typedStop(job);
    },
  });
  // Every instance polls; the store's leases give each due time to one of them.
  const scheduler = scheduleService
    ? createScheduler({
        store,
        log,
        bus,
        owner: leaseOwner,
        maxLateMs: config.schedules.maxLateMs,
        maxRuns: config.schedules.maxRuns,
        pollMs: scheduleTuning.pollMs ?? config.schedules.pollMs,
        ...(scheduleTuning.now === undefined ? {} : { now: scheduleTuning.now }),
        onEnqueued: (job) => dispatcher.wake(job.kind),
      })
    : undefined;
  /** What one app's transports hand the inbox: its events, marked with the app that received them. */
  const inboxOf = (runtime: FeishuAppRuntime): InboxReceiver =>
    runtime.id === DEFAULT_APP_ID ? inbox : { accept: (event) => inbox.accept({ ...event, appId: runtime.id }) };
  const webhookApps = runtimes.filter(
    (runtime): runtime is FeishuAppRuntime & { app: FeishuApp } => runtime.app?.eventMode === 'webhook',
  );
  const webhookMounted = webhookApps.length > 0;
  const routes: RouteModule[] = [
    {
      path: '/',
      app: rootRoute({
        version: packageVersion(),
        devtools: devtools !== undefined,
        webhook: webhookMounted,
        notify: feishuClient !== undefined && config.notify.token !== undefined,
      }),
    },
    { path: '/', app: health },
    { path: '/', app: metricsRoutes({ registry: metrics.registry }) },
  ];
  if (userAuth) routes.push({ path: '/', app: userAuth.routes });
  for (const runtime of webhookApps) {
    const routesOfApp = webhookRoutes({
      inbox: inboxOf(runtime),
      app: runtime.id,
      encryptKey: runtime.app.encryptKey,
      allowUnsigned: runtime.app.allowUnsignedWebhook,
      verificationToken: runtime.app.verificationToken,
      maxSkewSeconds: config.feishu.maxSkewSeconds,
      log: runtime.log,
      bus,
      onCardAction: runtime.onCardAction,
    });
    // /webhook/<id>/event and /card per app; /webhook/event and /card stay the default app's
    // (or the only app's), so a single-app deployment keeps the URLs Feishu has.
    routes.push({ path: `/webhook/${runtime.id}`, app: routesOfApp });
    if (runtime.id === DEFAULT_APP_ID || config.feishu.apps.length === 1) {
      routes.push({ path: '/webhook', app: routesOfApp });
    }
  }

  if (feishuClient && config.notify.token !== undefined) {
    routes.push({
      path: '/api',
      app: notifyRoutes({
        token: config.notify.token,
        store,
        log,
        bus,
        bodyLimitBytes: config.notify.bodyLimitBytes,
        // Left out of a request, the default (or first) app posts, within its own allowed chats.
        allowedChatIds: primaryRuntime.policy.allowedChatIds,
        // The apps of FEISHU_APPS_FILE (the env-only app is named by leaving `app` out).
        apps: new Map(
          runtimes.flatMap((runtime) =>
            runtime.app === undefined ? [] : [[runtime.id, runtime.policy.allowedChatIds]],
          ),
        ),
        onEnqueued: (job) => dispatcher.wake(job.kind),
      }),
    });
  }

  if (devtools) {
    const primaryFirst = [primaryRuntime, ...runtimes.filter((runtime) => runtime !== primaryRuntime)];
    routes.push({
      path: '/devtools',
      browser: true,
      app: devtoolsRoutes({
        tracker: devtools.tracker,
        replies: devtools.replies,
        thumbnails: devtools.thumbnails,
        inbox,
        store,
        // Exactly the body GET /health answers, built by the same function.
        healthSnapshot: healthReport(healthOptions),
        token: config.devtools.token,
        boundToLoopback: () => boundToLoopback,
        shutdownSignal: devtoolsShutdown.signal,
        maxChatChars: config.policy.maxInputChars,
        // The playground answers as any app served (`app` in POST /api/chat), the default first.
        apps: primaryFirst.map((runtime) => runtime.id),
        // Without a model (and no stand-in) the playground says the agent is off at once.
        canAnswer: () => 'answer' in handlers,
        // Settings are per chat per app: the Chats tab picks the app (`?app=`), the default first.
        chats: new Map(
          primaryFirst.map((runtime) => [
            runtime.id,
            {
              settings: runtime.chatSettings,
              membership: runtime.chatMembership,
              resolveUserName: runtime.names?.name,
            },
          ]),
        ),
        spend: devtoolsSpendOf({
          store,
          timeZone: config.cost.timeZone,
          membership: chatMembership,
          resolveUserName: userNames?.name,
        }),
      }),
    });
  }

  const app = createApp({
    log,
    bodyLimitBytes: config.feishu.bodyLimitBytes,
    routes,
    // Counted like every other webhook rejection (never logged: a flood of them must not fill the disk).
    onPayloadTooLarge: (path) => {
      if (path.startsWith('/webhook/')) {
        // /webhook/<id>/event names its app; /webhook/event is the default one's.
        const app = /^\/webhook\/([a-z0-9][a-z0-9-]*)\/(?:event|card)$/.exec(path)?.[1];
        bus.emit({
          type: 'event.rejected',
          source: 'webhook',
          status: 413,
          reason: 'PAYLOAD_TOO_LARGE',
          ...(app === undefined ? {} : { app }),
        });
      }
    },
  });

  const { server, address } = await listen({
    fetch: app.fetch,
    port: config.port,
    host: config.host,
    requestTimeoutMs: config.http.requestTimeoutMs,
    headersTimeoutMs: config.http.headersTimeoutMs,
    keepAliveTimeoutMs: config.http.keepAliveTimeoutMs,
    maxConnections: config.http.maxConnections,
  });
  const port = address.port;
  boundToLoopback = isLoopbackHost(address.address);
  // Recovery: jobs whose holder died (expired lease) are claimed on the first pump.
  dispatcher.start();
  // No card stays streaming after its job ended, whatever stopped the reply from closing it.
  // Each job's cards are closed with the client of the app that sent them.
  const cardWatchdog = feishuClient
    ? startCardWatchdog({ store, client: (job) => runtimeOf(job.payload)?.client, bus, log })
    : undefined;
  scheduler?.start();
  // Runs nobody decided on in time: their cards say so and nothing changes.
  const expireApprovals = async (at?: number) => {
    let expired = 0;
    for (const runtime of runtimes) expired += (await runtime.approvals?.expireOverdue(at)) ?? 0;
    return expired;
  };
  const approvalExpiry = runtimes.some((runtime) => runtime.approvals !== undefined)
    ? setInterval(() => {
        expireApprovals().catch((error: unknown) => log.warn({ err: error }, 'approval expiry sweep failed'));
      }, 30_000)
    : undefined;
  approvalExpiry?.unref();
  const housekeeping = startHousekeeping({
    store,
    log,
    retentionMs: config.inbox.retentionMs,
    historyRetentionMs: config.model.memoryRetentionMs,
    extraPasses: runtimes.map((runtime) => ({
      name: runtimes.length > 1 ? `chats ${runtime.id} left` : 'chats the bot left',
      run: () => runtime.chatMembership.purgeRemoved(),
    })),
  });
  // One long connection per app in websocket mode.
  const connections = new Map<string, LongConnection>();
  for (const runtime of runtimes) {
    if (runtime.app?.eventMode !== 'websocket') continue;
    const connection = startLongConnection({
      appId: runtime.app.appId,
      appSecret: runtime.app.appSecret,
      app: runtime.id,
      domain: config.feishu.domain,
      inbox: inboxOf(runtime),
      log: runtime.log,
      bus,
      onCardAction: runtime.onCardAction,
    });
    connections.set(runtime.id, connection);
    readinessChecks.push({
      name: connections.size === 1 && runtimes.length === 1 ? 'long-connection' : `long-connection:${runtime.id}`,
      // Reconnecting is degraded, not down: the monitor turns a failed connection unhealthy.
      critical: false,
      check: () => {
        const { state } = connection.status();
        if (state !== 'connected') throw new Error(`long connection is ${state}`);
      },
    });
  }
  const connection = connections.get(primaryRuntime.id);
  // Long connections: ready only once the SDK says every handshake succeeded.
  if (connections.size === 0) readiness.markReady();
  else {
    Promise.all([...connections.values()].map((each) => each.ready)).then(
      () => readiness.markReady(),
      (error: unknown) => log.error({ err: error }, 'long connection failed: not ready'),
    );
  }

  // The drain, in order, after readiness turns 503. Everything must fit in SHUTDOWN_TIMEOUT_MS,
  // so running answers get 60 % of it: the dispatcher's abort grace, handing jobs back and
  // closing the store need the rest.
  let serverClosed: Promise<void> | undefined;
  const shutdownSteps: ShutdownStep[] = [
    {
      name: 'stop accepting',
      run: () => {
        for (const each of connections.values()) each.close();
        housekeeping.stop();
        cardWatchdog?.stop();
        if (approvalExpiry !== undefined) clearInterval(approvalExpiry);
        devtoolsShutdown.abort();
        // No new connections from now on; open ones may finish their request (webhook acks).
        serverClosed = closeServer(server, Math.min(2_000, config.shutdownTimeoutMs / 4));
      },
    },
    // A tick in flight finishes its enqueue and record before the store can close.
    { name: 'stop scheduler', run: () => scheduler?.stop() },
    { name: 'drain dispatcher', run: () => dispatcher.drain(Math.floor(config.shutdownTimeoutMs * 0.6)) },
    { name: 'close server', run: () => serverClosed },
    // After the answers that may still call their tools; stdio servers' processes end with it.
    { name: 'close MCP servers', run: () => managerAgent?.mcp?.close() },
    { name: 'stop the extraction worker', run: () => attachmentWork?.close() },
    // Writes finished traces before the store closes.
    { name: 'close devtools tracker', run: () => devtools?.tracker.close() },
    { name: 'close store', run: () => store.close() },
  ];
  const lifecycle = createGracefulShutdown({
    log,
    readiness,
    timeoutMs: config.shutdownTimeoutMs,
    steps: shutdownSteps,
  });
  if (installProcessHandlers) {
    lifecycle.install();
    installGlobalProcessHandlers({
      log,
      bus,
      onFatal: (reason) => lifecycle.shutdown(reason, 1),
      maxUnhandledRejections: config.process.fatalUnhandledRejections,
      unhandledRejectionWindowMs: config.process.unhandledRejectionWindowMs,
    });
  }
  const stop = () => lifecycle.drain();

  log.info({ port, host: config.host, store: store.kind }, 'listening');
  const startup = startupSummary({ config, port, longConnectionState: connection?.status().state });
  // One readable block on a terminal, one JSON line (`startup`) for machines.
  if (givenLog === undefined && logFormat === 'pretty') log.info(`started\n${formatStartupBanner(startup)}`);
  else log.info({ startup }, 'started');
  if (typeof process.send === 'function') process.send('ready');

  const feishu = feishuClient && botIdentity ? { client: feishuClient, identity: botIdentity, connection } : undefined;
  const feishuApps = new Map(
    runtimes.flatMap((runtime) =>
      runtime.client && runtime.identity
        ? [
            [
              runtime.id,
              { client: runtime.client, identity: runtime.identity, connection: connections.get(runtime.id) },
            ],
          ]
        : [],
    ),
  );
  return {
    config,
    log,
    store,
    bus,
    readiness,
    monitor,
    metrics,
    lifecycle,
    app,
    server,
    port,
    inbox,
    dispatcher,
    feishu,
    devtools,
    feishuApps,
    expireApprovals: approvalExpiry === undefined ? undefined : expireApprovals,
    chats: { settings: chatSettings, membership: chatMembership },
    housekeeping,
    stop,
  };
}

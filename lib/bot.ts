import { randomUUID } from 'node:crypto';
import type { ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { createManagerAgentFromConfig } from './agents/manager-agent.js';
import { defaultToolRegistry } from './agents/tools/built-in-tools.js';
import type { UserAuthorization } from './agents/tools/user-authorization.js';
import { createApp, type RouteModule } from './app.js';
import { type Config, isLoopbackHost } from './config.js';
import { feedbackButtonHandler } from './conversation/answer-feedback.js';
import { APPROVAL_JOB_KIND, createApprovalService } from './conversation/approvals.js';
import { createCardActionRouter } from './conversation/card-actions.js';
import {
  BOT_ADDED_EVENT,
  BOT_REMOVED_EVENT,
  CHAT_MEMBERSHIP_KIND,
  type ChatMembership,
  createChatMembership,
} from './conversation/chat-membership.js';
import { type ChatSettings, chatSettingsPolicyFromConfig, createChatSettings } from './conversation/chat-settings.js';
import { createMessageHandler } from './conversation/handle-message.js';
import { createDeadLetterReply, createNoticeHandler } from './conversation/notice-handlers.js';
import { createLanguageOf } from './conversation/reply-language.js';
import { createReplyRouter } from './conversation/reply-routing.js';
import { createRoomContext } from './conversation/room-context.js';
import { createRunStops, stopButtonHandler } from './conversation/run-stops.js';
import { SETTINGS_ACTION, settingsButtonHandler } from './conversation/settings-card.js';
import { createTurnResolverFromConfig } from './conversation/turn-resolver-from-config.js';
import { createTypedStop } from './conversation/typed-stop.js';
import { createBudgetGuard } from './cost/budget-guard.js';
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
import { type BotIdentity, fetchBotIdentity } from './feishu/bot-identity.js';
import { feishuCardActionHandler } from './feishu/card-callback.js';
import { createChatAdminCheck, createChatAdmins } from './feishu/chat-admins.js';
import { createFeishuClient, type FeishuClient } from './feishu/feishu-client.js';
import { type LongConnection, startLongConnection } from './feishu/long-connection.js';
import { createMessageOriginCheck } from './feishu/message-origin.js';
import { startCardWatchdog } from './feishu/reply/card-watchdog.js';
import { createUserNames } from './feishu/user-names.js';
import { webhookRoutes } from './feishu/webhook/webhook-routes.js';
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
import { createProactiveDeadLetter, createProactiveHandler } from './schedules/proactive-handler.js';
import { PROACTIVE_JOB_KIND } from './schedules/proactive-job.js';
import { createScheduleService } from './schedules/schedule-service.js';
import { createScheduleTools } from './schedules/schedule-tools.js';
import { createScheduler } from './schedules/scheduler.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { userAuthFromConfig } from './user-auth/user-auth-from-config.js';

/** A chat or sender may store this many times its per-minute rate limit before messages are dropped. */
const FLOOD_CAP_FACTOR = 4;

/** The app label of spend and usage series while one process serves one Feishu app. */
const DEFAULT_APP_LABEL = 'default';
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
  });
  metrics.attach(bus);
  // Spend per chat, person, app and model: priced here, summed in the store for the budgets.
  const prices = createPriceTable(config.cost.pricesFile === undefined ? {} : readPriceFile(config.cost.pricesFile));
  const spendLedger = createSpendLedger({ store, timeZone: config.cost.timeZone, appId: DEFAULT_APP_LABEL });
  attachUsageAccounting({ bus, prices, ledger: spendLedger, appId: DEFAULT_APP_LABEL, log });
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
      feishu: config.feishu,
      model: config.model,
      storeKind: store.kind,
      // Read per request: both exist by the time a request can arrive.
      connectionStatus: () => connection?.status(),
      canAnswer: () => 'answer' in handlers,
      mcpServers: () => managerAgent?.mcp?.statuses() ?? [],
    }),
  };
  const health = healthRoutes(healthOptions);

  // ── ingress: Feishu client, inbox, dispatcher, webhook or long connection ──
  const feishuClient =
    config.feishu.enabled && config.feishu.appId && config.feishu.appSecret
      ? createFeishuClient({
          appId: config.feishu.appId,
          appSecret: config.feishu.appSecret,
          domain: config.feishu.domain,
          log,
        })
      : undefined;
  // Per-person authorization (TOKEN_ENCRYPTION_KEY + PUBLIC_BASE_URL): tools reading as the asker.
  const userAuth = userAuthFromConfig({ config, feishuClient, store, bus, log });
  const userAuthorization = givenUserAuthorization ?? userAuth?.authorization;
  const botIdentity = feishuClient ? () => fetchBotIdentity(feishuClient, { bus }) : undefined;
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
  const replySinkFor = createReplyRouter({
    ...(feishuClient
      ? { feishu: { client: feishuClient, cardUpdatesPerSecond: config.reply.cardUpdatesPerSecond } }
      : {}),
    ...(devtools ? { devtools: devtools.replies } : {}),
    bus,
    log,
  });
  const botOpenId = botIdentity ? async () => (await botIdentity()).openId : undefined;
  // Senders' display names for the agent (group turns, instructions) and the devtools.
  const userNames = feishuClient
    ? createUserNames({ client: feishuClient, bus, ttlMs: config.tools.userNameCacheMs })
    : undefined;
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
        bus,
        log,
        feishuClient,
        maxConcurrency: config.inbox.maxConcurrentJobs,
        ...(userAuthorization === undefined ? {} : { userAuthorization }),
        ...(userNames === undefined ? {} : { resolveUserName: userNames.name }),
        ...(scheduleService === undefined ? {} : { extraTools: createScheduleTools(scheduleService) }),
      })
    : undefined;
  // Per-chat settings over the configured defaults; group owners and admins per Feishu's chat API.
  const chatSettings = createChatSettings({
    store,
    policy: chatSettingsPolicyFromConfig(config, {
      tools: defaultToolRegistry().names(),
      specialists: managerAgent?.specialists.list().map((specialist) => specialist.name) ?? [],
    }),
  });
  // Daily budgets: the configured ones, or what a chat's admins set within the operator's ceiling.
  const budget = createBudgetGuard({
    ledger: spendLedger,
    budgets: { perChatUsd: config.cost.dailyBudgetPerChatUsd, perUserUsd: config.cost.dailyBudgetPerUserUsd },
    budgetsFor: async (chatId) => (await chatSettings.effective(chatId)).dailyBudget,
  });
  // One lookup for /config, card buttons and typed stops; within a card callback's 3 s.
  const chatAdmins = feishuClient ? createChatAdmins({ client: feishuClient, bus, timeoutMs: 1_500 }) : undefined;
  // Images, files, voice, quotes and forwarded bundles, resolved in the job (docs/messages.md).
  const attachmentWork = managerAgent
    ? createTurnResolverFromConfig({
        config,
        feishuClient,
        bus,
        log,
        botOpenId,
        nameOf: userNames?.name,
        onImage: devtools
          ? (traceId, key, image) => {
              void devtools.thumbnails.add(traceId, key, image);
            }
          : undefined,
      })
    : undefined;
  // Write tools ask first: a paused run, an approval card, the decision continuing it as a job.
  const toolRegistry = defaultToolRegistry();
  const approvals =
    feishuClient && managerAgent
      ? createApprovalService({
          store,
          feishuClient,
          describe: (name, input, language) => {
            // MCP tools that may write ask too: "Run <server>.<tool>" with their arguments.
            const definition = toolRegistry.get(name) ?? managerAgent.mcp?.definition(name);
            const parsed = definition?.inputSchema.safeParse(input);
            return parsed?.success ? definition?.approval?.describe(parsed.data, language) : undefined;
          },
          // The dispatcher exists by the time anyone can press a button.
          onEnqueued: (job) => dispatcher.wake(job.kind),
          bus,
          log,
          timeoutMs: config.approvals.timeoutMinutes * 60_000,
        })
      : undefined;
  // Stop requests and card buttons: the run's Stop control, a typed "stop", on either transport.
  const runStops = createRunStops({ store, log });
  const isChatAdmin = chatAdmins ? createChatAdminCheck({ admins: chatAdmins }) : undefined;
  const onCardAction = feishuCardActionHandler({
    onPress: createCardActionRouter({
      // One handler per control kind: a new kind of button is one more entry here.
      handlers: {
        stop: stopButtonHandler(runStops),
        feedback: feedbackButtonHandler({ store, bus }),
        ...approvals?.cardHandlers,
        ...(feishuClient === undefined
          ? {}
          : {
              [SETTINGS_ACTION]: settingsButtonHandler({
                settings: chatSettings,
                admins: chatAdmins,
                feishuClient,
                bus,
                log,
              }),
            }),
      },
      store,
      ...(isChatAdmin === undefined ? {} : { isChatAdmin }),
      bus,
      log,
    }),
    log,
  });
  const typedStop = createTypedStop({
    stops: runStops,
    ...(isChatAdmin === undefined ? {} : { isChatAdmin }),
    botOpenId,
    log,
  });
  // Joining a group (welcome card) and leaving one (its state purged after the retention).
  const chatMembership = createChatMembership({
    store,
    bus,
    log,
    feishuClient,
    chatSettings,
    retentionMs: config.groups.removedChatRetentionMs,
    purgeChat: scheduleService?.forgetChat,
  });
  const handlers: Record<string, JobHandler> = {
    [CHAT_MEMBERSHIP_KIND]: chatMembership.handler,
    [BUSY_NOTICE_KIND]: createNoticeHandler({
      bus,
      log,
      botOpenId,
      replySinkFor,
      policy: config.policy,
      store,
      languageOf: createLanguageOf({ chatSettings, log }),
    }),
    ...(managerAgent
      ? {
          answer: createMessageHandler({
            approvals,
            ...(userAuth ? { forgetUserAuthorization: (userId: string) => userAuth.authorization.forget(userId) } : {}),
            policy: config.policy,
            budget,
            memoryTokenBudget: config.model.memoryTokenBudget,
            appId: config.feishu.appId,
            store,
            bus,
            log,
            feishuClient,
            botOpenId,
            replySinkFor,
            managerAgent,
            schedules: scheduleService,
            runStops,
            // A forged event must not make the bot read one chat on behalf of another.
            originCheck:
              feishuClient === undefined ? undefined : createMessageOriginCheck({ client: feishuClient, bus }),
            ...(userNames === undefined ? {} : { resolveUserName: userNames.name }),
            turns: attachmentWork?.turns,
            vision: { primarySeesImages: config.model.primarySeesImages, visionModel: config.model.visionModel },
            groupContext: {
              room: createRoomContext({
                store,
                feishuClient,
                bus,
                log,
                resolveUserName: userNames?.name,
                botIds: [config.feishu.appId].filter((id): id is string => id !== undefined),
                maxMessages: config.groups.contextMaxMessages,
                tokenBudget: config.groups.contextTokenBudget,
              }),
              mode: async (chatId: string) => (await chatSettings.effective(chatId)).groupContext,
            },
            chatSettings,
            chatAdmins,
          }),
        }
      : {}),
    ...(feishuClient
      ? {
          [PROACTIVE_JOB_KIND]: createProactiveHandler({
            feishuClient,
            bus,
            log,
            managerAgent,
            chatSettings,
            budget,
            store,
            cardUpdatesPerSecond: config.reply.cardUpdatesPerSecond,
          }),
        }
      : {}),
    ...buildHandlers?.(handlerDependencies),
  };
  // A decided approval continues its run through the same conversation step.
  if (approvals && handlers.answer) handlers[APPROVAL_JOB_KIND] = handlers.answer;
  const messageDeadLetter = createDeadLetterReply({
    botOpenId,
    replySinkFor,
    languageOf: createLanguageOf({ chatSettings, log }),
  });
  const proactiveDeadLetter = feishuClient
    ? createProactiveDeadLetter({
        feishuClient,
        bus,
        log,
        chatSettings,
        cardUpdatesPerSecond: config.reply.cardUpdatesPerSecond,
      })
    : undefined;
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
      return job.job.kind === PROACTIVE_JOB_KIND && proactiveDeadLetter
        ? proactiveDeadLetter(job)
        : messageDeadLetter(job);
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
    },
    onEnqueued: (job) => {
      dispatcher.wake(job.kind);
      typedStop(job);
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
  const webhookMounted = feishuClient !== undefined && config.feishu.eventMode === 'webhook';
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
  if (webhookMounted) {
    routes.push({
      path: '/webhook',
      app: webhookRoutes({
        inbox,
        encryptKey: config.feishu.encryptKey,
        allowUnsigned: config.feishu.allowUnsignedWebhook,
        verificationToken: config.feishu.verificationToken,
        maxSkewSeconds: config.feishu.maxSkewSeconds,
        log,
        bus,
        onCardAction,
      }),
    });
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
        allowedChatIds: config.policy.allowedChatIds,
        onEnqueued: (job) => dispatcher.wake(job.kind),
      }),
    });
  }

  if (devtools) {
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
        // Without a model (and no stand-in) the playground says the agent is off at once.
        canAnswer: () => 'answer' in handlers,
        chats: { settings: chatSettings, membership: chatMembership, resolveUserName: userNames?.name },
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
        bus.emit({ type: 'event.rejected', source: 'webhook', status: 413, reason: 'PAYLOAD_TOO_LARGE' });
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
  const cardWatchdog = feishuClient ? startCardWatchdog({ store, client: feishuClient, bus, log }) : undefined;
  scheduler?.start();
  // Runs nobody decided on in time: their cards say so and nothing changes.
  const approvalExpiry = approvals
    ? setInterval(() => {
        approvals.expireOverdue().catch((error: unknown) => log.warn({ err: error }, 'approval expiry sweep failed'));
      }, 30_000)
    : undefined;
  approvalExpiry?.unref();
  const housekeeping = startHousekeeping({
    store,
    log,
    retentionMs: config.inbox.retentionMs,
    historyRetentionMs: config.model.memoryRetentionMs,
    extraPasses: [{ name: 'chats the bot left', run: () => chatMembership.purgeRemoved() }],
  });
  const connection =
    feishuClient && config.feishu.eventMode === 'websocket' && config.feishu.appId && config.feishu.appSecret
      ? startLongConnection({
          appId: config.feishu.appId,
          appSecret: config.feishu.appSecret,
          domain: config.feishu.domain,
          inbox,
          log,
          bus,
          onCardAction,
        })
      : undefined;
  if (connection) {
    readinessChecks.push({
      name: 'long-connection',
      // Reconnecting is degraded, not down: the monitor turns a failed connection unhealthy.
      critical: false,
      check: () => {
        const { state } = connection.status();
        if (state !== 'connected') throw new Error(`long connection is ${state}`);
      },
    });
    // Long connection: ready only once the SDK says the handshake succeeded.
    connection.ready.then(
      () => readiness.markReady(),
      (error: unknown) => log.error({ err: error }, 'long connection failed: not ready'),
    );
  } else {
    readiness.markReady();
  }

  // The drain, in order, after readiness turns 503. Everything must fit in SHUTDOWN_TIMEOUT_MS,
  // so running answers get 60 % of it: the dispatcher's abort grace, handing jobs back and
  // closing the store need the rest.
  let serverClosed: Promise<void> | undefined;
  const shutdownSteps: ShutdownStep[] = [
    {
      name: 'stop accepting',
      run: () => {
        connection?.close();
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
    expireApprovals: approvals === undefined ? undefined : (at) => approvals.expireOverdue(at),
    chats: { settings: chatSettings, membership: chatMembership },
    housekeeping,
    stop,
  };
}

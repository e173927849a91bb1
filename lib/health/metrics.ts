import { Hono } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { MAX_FEISHU_APPS } from '../feishu/feishu-apps.js';
import { appOfKey, DEFAULT_APP_ID } from '../inbox/app-scope.js';
import type { BotEvent, ConnectionState } from '../observe/bot-event.js';
import { ERROR_CATEGORIES } from '../observe/error-category.js';
import type { EventBus } from '../observe/event-bus.js';
import type { JobCounts } from '../store/store.js';
import { withTimeout } from '../util/with-timeout.js';
import { CappedNameMap } from './capped-name-map.js';
import type { ConcurrencyReport } from './concurrency-report.js';
import type { HealthMonitor } from './health-monitor.js';
import type { HealthStatus } from './health-rules.js';

export interface MetricsOptions {
  /** Added as the `instance` label of every series (config.instanceId). */
  instanceId: string;
  /** Process metrics (CPU, memory, event loop lag, GC, handles). Default true. */
  collectDefault?: boolean;
  /** Read at scrape time for the inbox depth gauges (`store.countJobs`). */
  countJobs?: () => Promise<JobCounts>;
  /** Read at scrape time for the health status gauge. */
  monitor?: HealthMonitor;
  /** Distinct values allowed per free-form label; further values become 'other'. */
  maxAgents?: number;
  maxModels?: number;
  maxApis?: number;
  /**
   * Chats and people with their own spend series; the rest add up under 'other', so a bot in
   * thousands of chats keeps a bounded number of series.
   */
  maxSpendSubjects?: number;
  /** A scrape does not wait longer than this for `countJobs`. Default 2 000 ms. */
  scrapeTimeoutMs?: number;
  /** Read at scrape time for the adaptive concurrency gauges. */
  concurrency?: () => ConcurrencyReport | undefined;
  /** Read at scrape time for the MCP server gauges (MCP_SERVERS_FILE); at most 20 servers. */
  mcpServers?: () => ReadonlyArray<{ name: string; state: string; restarts: number }>;
  /** The Feishu apps served, by id: the `app` label's values (zero series and connection states up front). */
  apps?: readonly string[];
}

export interface BotMetrics {
  /** Its own registry (never prom-client's global one), so several bots in one process don't collide. */
  registry: Registry;
  /** Updates the metrics for one bot event. */
  observe(event: BotEvent): void;
  /** Subscribes `observe` to the bus; returns the unsubscribe function. */
  attach(bus: EventBus): () => void;
}

const PREFIX = 'feishu_bot_';
/** Model calls run from milliseconds (errors) to minutes (long tool loops). */
const AGENT_SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120, 180];
const API_SECONDS_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const JOB_SECONDS_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const HEALTH_STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];
const CONNECTION_STATES: readonly ConnectionState[] = ['connecting', 'connected', 'reconnecting', 'failed', 'off'];
const JOB_STATUSES = ['pending', 'leased', 'done', 'dead'] as const;
const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const MAX_LABEL_LENGTH = 64;

/**
 * Keeps a free-form label (agent, model, api) to a bounded set of values: the first `max - 1`
 * distinct values pass, everything after is 'other'. Chat and user ids are labels only of the
 * spend series, through their own limiter.
 */
export class LabelLimiter {
  private readonly names: CappedNameMap<string>;
  constructor(max: number) {
    this.names = new CappedNameMap({ maxEntries: max, maxNameLength: MAX_LABEL_LENGTH, create: (name) => name });
  }

  value(raw: string | undefined): string {
    return raw === undefined || raw.length === 0 ? 'unknown' : this.names.get(raw);
  }
}

/**
 * Prometheus metrics fed by the event bus, plus gauges read at scrape time (inbox depth from the
 * store, health status from the monitor). Every series carries `instance`.
 *
 * @example
 * const metrics = createMetrics({ instanceId: config.instanceId, countJobs: () => store.countJobs(), monitor });
 * metrics.attach(bus);
 * app.route('/', metricsRoutes({ registry: metrics.registry }));
 */
export function createMetrics({
  instanceId,
  collectDefault = true,
  countJobs,
  monitor,
  maxAgents = 64,
  maxModels = 32,
  maxApis = 64,
  maxSpendSubjects = 100,
  scrapeTimeoutMs = 2_000,
  concurrency,
  mcpServers = () => [],
  apps: appIds = [DEFAULT_APP_ID],
}: MetricsOptions): BotMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ instance: instanceId });
  if (collectDefault) collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const agents = new LabelLimiter(maxAgents);
  const models = new LabelLimiter(maxModels);
  const apis = new LabelLimiter(maxApis);
  const tools = new LabelLimiter(maxAgents);
  const eventTypes = new LabelLimiter(32);
  const kinds = new LabelLimiter(16);
  const ignoreReasons = new LabelLimiter(32);
  const apps = new LabelLimiter(MAX_FEISHU_APPS + 12);
  const spendChats = new LabelLimiter(maxSpendSubjects);
  const spendUsers = new LabelLimiter(maxSpendSubjects);
  const rejectReasons = new LabelLimiter(32);
  const registers = [registry];

  const eventsReceived = new Counter({
    name: `${PREFIX}events_received_total`,
    help: 'Inbound events accepted, by source, Feishu event type and the app that received them.',
    labelNames: ['source', 'event_type', 'app'] as const,
    registers,
  });
  const dedupeHits = new Counter({
    name: `${PREFIX}dedupe_hits_total`,
    help: 'Inbound events dropped as duplicates, by the key that matched (message_id for messages, event_id for other events).',
    labelNames: ['source', 'key', 'app'] as const,
    registers,
  });
  const eventsRejected = new Counter({
    name: `${PREFIX}events_rejected_total`,
    help: 'Inbound requests rejected (bad signature, bad JSON, too large, store down), by HTTP status and reason code.',
    labelNames: ['source', 'status', 'reason', 'app'] as const,
    registers,
  });
  const eventsDropped = new Counter({
    name: `${PREFIX}events_dropped_total`,
    help: 'Inbound events acknowledged and dropped without a job, by reason (stale: older than the dedupe TTL; flood: a chat or sender past its cap of stored messages a minute; backlog-full: pending jobs past the hard cap).',
    labelNames: ['source', 'reason', 'app'] as const,
    registers,
  });
  const botMessagesSkipped = new Counter({
    name: `${PREFIX}bot_messages_skipped_total`,
    help: 'Messages from bots neither answered nor noticed, by sender (bot, app, self: our own open_id).',
    labelNames: ['sender', 'app'] as const,
    registers,
  });
  const securityEvents = new Counter({
    name: `${PREFIX}security_events_total`,
    help: 'Events that look like an attack, by kind and reason (message-origin: Feishu does not confirm the message an event names).',
    labelNames: ['kind', 'reason'] as const,
    registers,
  });
  const scheduleRuns = new Counter({
    name: `${PREFIX}schedule_runs_total`,
    help: 'Due times of schedules handled, by outcome (ran, skipped as missed, duplicate after a crash).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const jobsQueued = new Counter({
    name: `${PREFIX}jobs_queued_total`,
    help: 'Jobs added to the inbox.',
    labelNames: ['kind'] as const,
    registers,
  });
  const jobsStarted = new Counter({
    name: `${PREFIX}jobs_started_total`,
    help: 'Job attempts started (a retry or a resumed job counts again).',
    registers,
  });
  const jobsFinished = new Counter({
    name: `${PREFIX}jobs_finished_total`,
    help: 'Job attempts finished, by outcome (done, retry, dead, released) and the app of the job.',
    labelNames: ['outcome', 'app'] as const,
    registers,
  });
  const jobDuration = new Histogram({
    name: `${PREFIX}job_duration_seconds`,
    help: 'Time a job attempt ran, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: JOB_SECONDS_BUCKETS,
    registers,
  });
  const jobsBusy = new Counter({
    name: `${PREFIX}jobs_rejected_busy_total`,
    help: 'Events turned away because the inbox backlog was full.',
    registers,
  });
  const messagesIgnored = new Counter({
    name: `${PREFIX}messages_ignored_total`,
    help: 'Messages the bot chose not to answer, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const agentCalls = new Counter({
    name: `${PREFIX}agent_calls_total`,
    help: 'Agent (model) calls by agent and outcome.',
    labelNames: ['agent', 'outcome'] as const,
    registers,
  });
  const agentDuration = new Histogram({
    name: `${PREFIX}agent_call_duration_seconds`,
    help: 'Agent call latency by agent.',
    labelNames: ['agent'] as const,
    buckets: AGENT_SECONDS_BUCKETS,
    registers,
  });
  const agentTokens = new Counter({
    name: `${PREFIX}agent_tokens_total`,
    help: 'Model tokens used, by agent and direction (input, output).',
    labelNames: ['agent', 'direction'] as const,
    registers,
  });
  const answerFeedback = new Counter({
    name: `${PREFIX}answer_feedback_total`,
    help: 'Ratings people gave finished answers (up, down), by the agent that answered and its model.',
    labelNames: ['agent', 'model', 'rating'] as const,
    registers,
  });
  const toolCalls = new Counter({
    name: `${PREFIX}tool_calls_total`,
    help: 'Tool calls by tool and outcome.',
    labelNames: ['tool', 'outcome'] as const,
    registers,
  });
  const toolErrors = new Counter({
    name: `${PREFIX}tool_errors_total`,
    help: 'Failed tool calls by tool and error category (NO_SCOPE, NO_PERMISSION, TIMEOUT, …).',
    labelNames: ['tool', 'category'] as const,
    registers,
  });
  const toolDuration = new Histogram({
    name: `${PREFIX}tool_call_duration_seconds`,
    help: 'Tool call latency by tool, Feishu requests included.',
    labelNames: ['tool'] as const,
    buckets: API_SECONDS_BUCKETS,
    registers,
  });
  const modelFallbacks = new Counter({
    name: `${PREFIX}model_fallbacks_total`,
    help: 'Times the model chain fell over to the next model, by the error category that caused it.',
    labelNames: ['reason'] as const,
    registers,
  });
  const rateLimits = new Counter({
    name: `${PREFIX}rate_limits_total`,
    help: 'Rate-limit answers from model providers, by model.',
    labelNames: ['model'] as const,
    registers,
  });
  const modelAttempts = new Counter({
    name: `${PREFIX}model_attempts_total`,
    help: 'Verdicts on model requests inside agent calls, by model, outcome (success, error, refused: not sent, breaker open) and error category; a turn a fallback answered is still a successful agent call.',
    labelNames: ['model', 'outcome', 'category'] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: `${PREFIX}model_breaker_state`,
    help: "A model's circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.",
    labelNames: ['model', 'state'] as const,
    registers,
  });
  const limitChanges = new Counter({
    name: `${PREFIX}concurrency_limit_changes_total`,
    help: "Changes of a model's adaptive concurrency limit, by direction (raised, cut).",
    labelNames: ['model', 'direction'] as const,
    registers,
  });
  new Gauge({
    name: `${PREFIX}concurrency_limit`,
    help: 'Agent runs admitted at once now (adaptive, within MAX_CONCURRENT_JOBS).',
    registers,
    collect() {
      const report = concurrency?.();
      if (report !== undefined) this.set(report.limit);
    },
  });
  new Gauge({
    name: `${PREFIX}concurrency_ceiling`,
    help: 'MAX_CONCURRENT_JOBS: the hard ceiling of the adaptive limit.',
    registers,
    collect() {
      const report = concurrency?.();
      if (report !== undefined) this.set(report.ceiling);
    },
  });
  new Gauge({
    name: `${PREFIX}agent_runs_running`,
    help: 'Agent runs (answer jobs) running now in this process.',
    registers,
    collect() {
      const report = concurrency?.();
      if (report !== undefined) this.set(report.running);
    },
  });
  new Gauge({
    name: `${PREFIX}model_concurrency_limit`,
    help: "A model's adaptive concurrency limit now.",
    labelNames: ['model'] as const,
    registers,
    collect() {
      for (const [model, reading] of Object.entries(concurrency?.()?.byModel ?? {})) {
        this.set({ model: models.value(model) }, reading.limit);
      }
    },
  });
  new Gauge({
    name: `${PREFIX}model_requests_in_flight`,
    help: 'Requests to a model in flight now.',
    labelNames: ['model'] as const,
    registers,
    collect() {
      for (const [model, reading] of Object.entries(concurrency?.()?.byModel ?? {})) {
        this.set({ model: models.value(model) }, reading.inFlight);
      }
    },
  });
  const errors = new Counter({
    name: `${PREFIX}errors_total`,
    help: 'Errors by category.',
    labelNames: ['category'] as const,
    registers,
  });
  const replies = new Counter({
    name: `${PREFIX}replies_total`,
    help: 'Replies finished, by mode (card, text, devtools).',
    labelNames: ['mode'] as const,
    registers,
  });
  const feishuApiCalls = new Counter({
    name: `${PREFIX}feishu_api_calls_total`,
    help: 'Feishu Open API calls by API and outcome (ok, rate-limited, error).',
    labelNames: ['api', 'outcome'] as const,
    registers,
  });
  const feishuApiDuration = new Histogram({
    name: `${PREFIX}feishu_api_duration_seconds`,
    help: 'Feishu Open API call latency by API.',
    labelNames: ['api'] as const,
    buckets: API_SECONDS_BUCKETS,
    registers,
  });
  const connectionState = new Gauge({
    name: `${PREFIX}feishu_connection_state`,
    help: "Each app's Feishu long connection state: 1 for the current state, 0 for the others.",
    labelNames: ['state', 'app'] as const,
    registers,
  });
  const reconnects = new Gauge({
    name: `${PREFIX}feishu_reconnects`,
    help: "Reconnects of each app's Feishu long connection since start.",
    labelNames: ['app'] as const,
    registers,
  });
  const modelTokens = new Counter({
    name: `${PREFIX}model_tokens_total`,
    help: 'Model tokens used, by app, model and direction (input, output).',
    labelNames: ['app', 'model', 'direction'] as const,
    registers,
  });
  const costByModel = new Counter({
    name: `${PREFIX}cost_usd_total`,
    help: 'Estimated model cost in USD (MODEL_PRICES_FILE over list prices), by app and model; unpriced models add 0.',
    labelNames: ['app', 'model'] as const,
    registers,
  });
  const unpricedTokens = new Counter({
    name: `${PREFIX}unpriced_tokens_total`,
    help: 'Tokens of models the price table does not know (their cost is missing from the cost series).',
    labelNames: ['app', 'model'] as const,
    registers,
  });
  const costByChat = new Counter({
    name: `${PREFIX}chat_cost_usd_total`,
    help: "Estimated model cost in USD by the chat that asked (the first chats seen each get a series, later ones add to 'other').",
    labelNames: ['app', 'chat'] as const,
    registers,
  });
  const costByUser = new Counter({
    name: `${PREFIX}user_cost_usd_total`,
    help: "Estimated model cost in USD by the person who asked (the first people seen each get a series, later ones add to 'other').",
    labelNames: ['app', 'user'] as const,
    registers,
  });
  const processErrors = new Counter({
    name: `${PREFIX}process_errors_total`,
    help: 'Uncaught exceptions and unhandled rejections.',
    labelNames: ['kind'] as const,
    registers,
  });

  // Zero-valued series up front, so rate() and alerts see the series before the first incident.
  for (const category of ERROR_CATEGORIES) errors.inc({ category }, 0);
  for (const kind of ['uncaughtException', 'unhandledRejection']) processErrors.inc({ kind }, 0);
  for (const app of appIds) {
    for (const outcome of ['done', 'retry', 'dead', 'released']) jobsFinished.inc({ outcome, app }, 0);
  }
  for (const app of appIds) {
    for (const sender of ['bot', 'app', 'self']) botMessagesSkipped.inc({ sender, app }, 0);
  }
  for (const reason of ['MESSAGE_UNKNOWN', 'CHAT_MISMATCH', 'SENDER_MISMATCH']) {
    securityEvents.inc({ kind: 'message-origin', reason }, 0);
  }
  for (const app of appIds) setConnection(app, 'off', 0);

  function setConnection(app: string, state: ConnectionState, count: number) {
    for (const candidate of CONNECTION_STATES) {
      connectionState.set({ state: candidate, app }, candidate === state ? 1 : 0);
    }
    reconnects.set({ app }, count);
  }

  new Gauge({
    name: `${PREFIX}mcp_server_up`,
    help: 'Each MCP server: 1 while connected (ready), 0 while connecting, restarting or closed.',
    labelNames: ['server'] as const,
    registers,
    collect() {
      this.reset();
      for (const server of mcpServers()) this.set({ server: server.name }, server.state === 'ready' ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}mcp_server_restarts`,
    help: 'Times each MCP server lost its connection (crash, exit, cut) and was connected again, since start.',
    labelNames: ['server'] as const,
    registers,
    collect() {
      this.reset();
      for (const server of mcpServers()) this.set({ server: server.name }, server.restarts);
    },
  });

  new Gauge({
    name: `${PREFIX}health_status`,
    help: 'The health monitor status: 1 for the current status, 0 for the others.',
    labelNames: ['status'] as const,
    registers,
    collect() {
      if (monitor === undefined) return;
      const status = monitor.status().status;
      for (const candidate of HEALTH_STATUSES) this.set({ status: candidate }, candidate === status ? 1 : 0);
    },
  });

  // The three store gauges are collected concurrently by one scrape: they share one read.
  let jobsRead: Promise<JobCounts | undefined> | undefined;
  const readJobs = () => {
    if (countJobs === undefined) return Promise.resolve(undefined);
    jobsRead ??= withTimeout(countJobs(), scrapeTimeoutMs, () => new Error(`no answer within ${scrapeTimeoutMs} ms`))
      .catch(() => undefined)
      .finally(() => {
        jobsRead = undefined;
      });
    return jobsRead;
  };
  new Gauge({
    name: `${PREFIX}store_up`,
    help: '1 when the store answered the count of inbox jobs at this scrape, 0 when it did not.',
    registers,
    async collect() {
      if (countJobs === undefined) return;
      // A scrape must still answer when the store is down: it says so instead of failing.
      this.set((await readJobs()) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: `${PREFIX}inbox_jobs`,
    help: 'Jobs in the inbox by status, read from the store at scrape time.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const counts = await readJobs();
      if (counts === undefined) return;
      for (const status of JOB_STATUSES) this.set({ status }, counts[status]);
    },
  });
  new Gauge({
    name: `${PREFIX}inbox_depth`,
    help: 'Jobs waiting or running (pending + leased), read from the store at scrape time.',
    registers,
    async collect() {
      const counts = await readJobs();
      if (counts !== undefined) this.set(counts.pending + counts.leased);
    },
  });

  function observe(event: BotEvent): void {
    switch (event.type) {
      case 'event.received':
        eventsReceived.inc({
          source: event.source,
          event_type: eventTypes.value(event.eventType),
          app: apps.value(appOfKey(event.traceId)),
        });
        break;
      case 'event.duplicate':
        dedupeHits.inc({ source: event.source, key: event.key, app: apps.value(appOfKey(event.traceId)) });
        break;
      case 'event.rejected':
        eventsRejected.inc({
          source: event.source,
          status: String(event.status),
          reason: rejectReasons.value(event.reason),
          app: apps.value(event.app ?? DEFAULT_APP_ID),
        });
        break;
      case 'event.dropped':
        eventsDropped.inc({ source: event.source, reason: event.reason, app: apps.value(appOfKey(event.traceId)) });
        break;
      case 'security.event':
        securityEvents.inc({ kind: event.kind, reason: event.reason });
        break;
      case 'message.bot-skipped':
        botMessagesSkipped.inc({ sender: event.sender, app: apps.value(appOfKey(event.traceId)) });
        break;
      case 'job.queued':
        jobsQueued.inc({ kind: kinds.value(event.kind) });
        break;
      case 'schedule.run':
        scheduleRuns.inc({ outcome: event.outcome });
        break;
      case 'job.started':
        jobsStarted.inc();
        break;
      case 'job.finished':
        jobsFinished.inc({ outcome: event.outcome, app: apps.value(appOfKey(event.traceId)) });
        jobDuration.observe({ outcome: event.outcome }, event.durationMs / 1000);
        break;
      case 'job.busy':
        jobsBusy.inc();
        break;
      case 'message.ignored':
        messagesIgnored.inc({ reason: ignoreReasons.value(event.reason) });
        break;
      case 'agent.call': {
        const agent = agents.value(event.agent);
        agentCalls.inc({ agent, outcome: event.outcome });
        agentDuration.observe({ agent }, Math.max(0, event.latencyMs) / 1000);
        if (event.inputTokens > 0) agentTokens.inc({ agent, direction: 'input' }, event.inputTokens);
        if (event.outputTokens > 0) agentTokens.inc({ agent, direction: 'output' }, event.outputTokens);
        if (event.outcome === 'error' && event.errorCategory !== undefined) {
          errors.inc({ category: event.errorCategory });
        }
        break;
      }
      case 'usage.recorded': {
        const app = apps.value(event.app);
        const model = models.value(event.model);
        if (event.inputTokens > 0) modelTokens.inc({ app, model, direction: 'input' }, event.inputTokens);
        if (event.outputTokens > 0) modelTokens.inc({ app, model, direction: 'output' }, event.outputTokens);
        if (!event.priced) {
          unpricedTokens.inc({ app, model }, event.inputTokens + event.outputTokens);
          break;
        }
        costByModel.inc({ app, model }, event.costUsd);
        if (event.chatId !== undefined) costByChat.inc({ app, chat: spendChats.value(event.chatId) }, event.costUsd);
        if (event.userId !== undefined) costByUser.inc({ app, user: spendUsers.value(event.userId) }, event.costUsd);
        break;
      }
      case 'tool.call': {
        const tool = tools.value(event.tool);
        toolCalls.inc({ tool, outcome: event.error === undefined ? 'success' : 'error' });
        toolDuration.observe({ tool }, Math.max(0, event.latencyMs) / 1000);
        if (event.error !== undefined) toolErrors.inc({ tool, category: event.errorCategory ?? 'OTHER' });
        break;
      }
      case 'model.fallback':
        modelFallbacks.inc({ reason: event.reason });
        break;
      case 'model.rate-limit':
        rateLimits.inc({ model: models.value(event.model) });
        break;
      case 'model.attempt':
        modelAttempts.inc({
          model: models.value(event.model),
          outcome: event.outcome,
          category: event.outcome === 'success' ? 'none' : (event.category ?? 'OTHER'),
        });
        break;
      case 'model.concurrency':
        limitChanges.inc({
          model: models.value(event.model),
          direction: event.limit > event.previous ? 'raised' : 'cut',
        });
        break;
      case 'model.breaker': {
        const model = models.value(event.model);
        for (const state of BREAKER_STATES) breakerState.set({ model, state }, state === event.state ? 1 : 0);
        break;
      }
      case 'reply.finished':
        replies.inc({ mode: event.mode });
        break;
      case 'answer.feedback':
        answerFeedback.inc({
          agent: agents.value(event.agent),
          model: models.value(event.model),
          rating: event.rating,
        });
        break;
      case 'feishu.api': {
        const api = apis.value(event.api);
        feishuApiCalls.inc({ api, outcome: event.outcome });
        feishuApiDuration.observe({ api }, Math.max(0, event.latencyMs) / 1000);
        break;
      }
      case 'feishu.connection':
        setConnection(apps.value(event.app ?? DEFAULT_APP_ID), event.state, event.reconnects);
        break;
      case 'error':
        errors.inc({ category: event.category });
        break;
      case 'process.error':
        processErrors.inc({ kind: event.kind });
        break;
      default:
        break;
    }
  }

  return { registry, observe, attach: (bus) => bus.subscribe(observe) };
}

/**
 * `GET /metrics` in the Prometheus text format.
 *
 * @example
 * app.route('/', metricsRoutes({ registry: metrics.registry }));
 */
export function metricsRoutes({ registry }: { registry: Registry }): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const text = await registry.metrics();
    return c.body(text, 200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
  });
  return app;
}

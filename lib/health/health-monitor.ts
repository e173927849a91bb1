import type { ConnectionState } from '../observe/bot-event.js';
import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';
import type { EventBus } from '../observe/event-bus.js';
import { createRedactor, type Redactor } from '../observe/redact.js';
import { isToolFault } from '../observe/tool-error-category.js';
import { CallWindow, emptyCallTotals } from './call-window.js';
import { CappedNameMap } from './capped-name-map.js';
import { type HealthMonitorOptions, type ResolvedHealthOptions, resolveHealthOptions } from './health-options.js';
import { type HealthVerdict, type Judgement, judge, type WindowFigures } from './health-rules.js';
import { type HealthSnapshot, healthSnapshot } from './health-snapshot.js';
import { histogramQuantile, LATENCY_BUCKET_COUNT } from './latency-histogram.js';
import { type BreakerStateSeen, ModelWindow } from './model-window.js';
import { RateLimitWindow } from './rate-limit-window.js';
import { sanitiseErrorMessage } from './sanitise-error-message.js';
import { SlidingWindow } from './sliding-window.js';
import { type ToolCallOutcome, ToolWindow } from './tool-window.js';

export { type HealthMonitorOptions, healthOptionsFromConfig, type StatusChange } from './health-options.js';
export type { HealthStatus, HealthVerdict } from './health-rules.js';
export type { AgentHealth, HealthSnapshot, LastError, RateLimitHealth } from './health-snapshot.js';

export type CallOutcome = 'success' | 'error';
export type ProcessErrorKind = 'uncaughtException' | 'unhandledRejection';

const CATEGORY_INDEX = new Map<string, number>(ERROR_CATEGORIES.map((category, index) => [category, index]));
const RATE_LIMIT_INDEX = CATEGORY_INDEX.get('RATE_LIMIT')!;
const OTHER_CATEGORY_INDEX = CATEGORY_INDEX.get('OTHER')!;
const ANSWERED = 0;
const FAILED = 1;

/**
 * Watches every agent call, error, provider rate limit and finished message over a sliding
 * window and turns them into healthy / degraded / unhealthy.
 *
 * Every counter is a ring of `bucketCount` slots of `windowSeconds / bucketCount` each (see
 * sliding-window.ts): old bursts age out and recording allocates nothing. The status comes from
 * the pure rules in health-rules.ts (thresholds from config, hysteresis on recovery), judged at
 * each evaluation: every read, every slot change while calls come in, every failure streak.
 * `snapshot()` shapes what it knows into the `/health` body (health-snapshot.ts).
 *
 * @example
 * const monitor = new HealthMonitor({ windowSeconds: 300, minCalls: 5 });
 * monitor.trackAgentCall('manager', 840, 'success');
 * monitor.snapshot().status; // 'healthy'
 */
export class HealthMonitor {
  private readonly options: ResolvedHealthOptions;
  private readonly slotMs: number;
  private readonly redact: Redactor;
  private readonly agents: CappedNameMap<CallWindow>;
  private readonly models: CappedNameMap<RateLimitWindow>;
  /** Per model: requests sent, failures by category, breaker refusals and state. */
  private readonly modelAttempts: CappedNameMap<ModelWindow>;
  /** Tool calls, apart from agent calls: a broken tool degrades the bot but never makes it unhealthy. */
  private readonly tools: CappedNameMap<ToolWindow>;
  /** One counter per error category. */
  private readonly errors: SlidingWindow;
  /** Jobs answered and jobs that failed: agent calls can all succeed while no answer reaches anyone (Feishu down, permission revoked). */
  private readonly deliveries: SlidingWindow;
  private consecutiveFailures = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private lastError: { category: ErrorCategory; message: string; at: number } | null = null;
  private connection: ConnectionState = 'off';
  private reconnects = 0;
  private uncaughtExceptions = 0;
  private unhandledRejections = 0;
  private judgement: Judgement = { status: 'healthy', reasons: [], recovery: undefined };
  private lastEvaluatedEpoch = Number.NEGATIVE_INFINITY;
  // Scratch space for reads, so even /health polling produces little garbage.
  private readonly histogram = new Float64Array(LATENCY_BUCKET_COUNT);
  private readonly categoryCounts = new Float64Array(ERROR_CATEGORIES.length);

  constructor(options: HealthMonitorOptions = {}) {
    const resolved = resolveHealthOptions(options);
    this.options = resolved;
    this.slotMs = (resolved.windowSeconds * 1000) / resolved.bucketCount;
    this.redact = createRedactor(resolved.secrets);
    const slots = { slotCount: resolved.bucketCount, slotMs: this.slotMs };
    this.agents = new CappedNameMap({ maxEntries: resolved.maxAgents, create: () => new CallWindow(slots) });
    this.models = new CappedNameMap({ maxEntries: resolved.maxModels, create: () => new RateLimitWindow(slots) });
    this.modelAttempts = new CappedNameMap({ maxEntries: resolved.maxModels, create: () => new ModelWindow(slots) });
    this.tools = new CappedNameMap({ maxEntries: resolved.maxAgents, create: () => new ToolWindow(slots) });
    this.errors = new SlidingWindow({ ...slots, width: ERROR_CATEGORIES.length });
    this.deliveries = new SlidingWindow({ ...slots, width: 2 });
  }

  get windowSeconds(): number {
    return this.options.windowSeconds;
  }

  /**
   * Records one agent (model) call. Costs a map lookup and a few typed-array writes: no
   * allocation once the agent's ring exists.
   */
  trackAgentCall(agent: string, latencyMs: number, outcome: CallOutcome): void {
    if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs)) {
      throw new TypeError(`trackAgentCall: latencyMs must be a finite number, got ${String(latencyMs)}`);
    }
    const isError = outcome === 'error';
    if (!isError && outcome !== 'success') {
      throw new TypeError(`trackAgentCall: outcome must be 'success' or 'error', got ${String(outcome)}`);
    }
    const now = this.options.now();
    // Negative latency only comes from a clock step; count the call, not the nonsense.
    this.agents.get(agent).record(now, Math.max(latencyMs, 0), isError);
    if (isError) {
      this.consecutiveFailures++;
      this.lastFailureAt = now;
      if (this.consecutiveFailures === this.options.minCalls) {
        this.evaluate(now);
        return;
      }
    } else if (this.consecutiveFailures > 0) {
      const endsOutageStreak = this.consecutiveFailures >= this.options.minCalls;
      this.consecutiveFailures = 0;
      // The first success after an outage starts the recovery dwell now, not at the next read.
      if (endsOutageStreak) {
        this.evaluate(now);
        return;
      }
    }
    if (Math.floor(now / this.slotMs) !== this.lastEvaluatedEpoch) this.evaluate(now);
  }

  /**
   * Records one tool call. A fault (outage, timeout, bad answer) counts toward the tool's error
   * rate; a missing scope degrades the status at once, since the tool fails for everyone until an
   * admin grants it. A user's own refusals (no access to one document, not authorized) are neither.
   */
  trackToolCall(tool: string, latencyMs: number, outcome: ToolCallOutcome): void {
    const now = this.options.now();
    this.tools.get(tool).record(now, Number.isFinite(latencyMs) ? Math.max(latencyMs, 0) : 0, {
      ...outcome,
      ...(outcome.problem === undefined
        ? {}
        : {
            problem: sanitiseErrorMessage(outcome.problem, {
              redact: this.redact,
              maxLength: this.options.maxErrorMessageLength,
            }),
          }),
    });
    if (outcome.missingScope || outcome.fault) this.evaluate(now);
  }

  /** Counts an error by category over the window and remembers it as the last error. */
  trackError(category: ErrorCategory | string, message: string): void {
    const now = this.options.now();
    const index = CATEGORY_INDEX.get(category) ?? OTHER_CATEGORY_INDEX;
    this.errors.add(now, index);
    this.lastError = {
      category: ERROR_CATEGORIES[index]!,
      message: sanitiseErrorMessage(message, { redact: this.redact, maxLength: this.options.maxErrorMessageLength }),
      at: now,
    };
  }

  /** Counts one inbox job that finished: its answer reached the user, or the attempt failed. */
  trackDelivery(outcome: 'answered' | 'failed'): void {
    this.deliveries.add(this.options.now(), outcome === 'answered' ? ANSWERED : FAILED);
  }

  /**
   * Counts a rate-limit answer from a provider/model, with what it said about when to retry
   * and how much quota is left (either may be absent).
   */
  trackRateLimit(key: string, retryAfterMs?: number, remaining?: number): void {
    this.models.get(key).record(this.options.now(), retryAfterMs, remaining);
  }

  /**
   * Counts one verdict on one model: answered, failed (by category) or refused by its open
   * breaker. Per-model detail only: what the user experienced is the agent call's outcome.
   */
  trackModelAttempt(model: string, outcome: 'success' | 'error' | 'refused', category?: ErrorCategory): void {
    this.modelAttempts.get(model).record(this.options.now(), outcome, category);
  }

  /** A model's circuit breaker changed state (shown per model in /health). */
  setModelBreaker(model: string, state: BreakerStateSeen, cooldownMs?: number): void {
    this.modelAttempts.get(model).setBreaker(this.options.now(), state, cooldownMs);
  }

  /** The Feishu long connection's state ('off' in webhook mode). */
  setConnectionState(state: ConnectionState, reconnects = this.reconnects): void {
    this.connection = state;
    this.reconnects = reconnects;
    this.evaluate(this.options.now());
  }

  /** Counts an uncaught exception or unhandled rejection (since start, not windowed). */
  trackProcessError(kind: ProcessErrorKind): void {
    if (kind === 'uncaughtException') this.uncaughtExceptions++;
    else this.unhandledRejections++;
  }

  /** The current status with its reasons (applies hysteresis). */
  status(): HealthVerdict {
    return this.evaluate(this.options.now());
  }

  /** Everything `/health` shows, computed over the window as of now. */
  snapshot(): HealthSnapshot {
    const now = this.options.now();
    const figures = this.figures(now);
    const verdict = this.evaluateWith(figures);
    return healthSnapshot({
      verdict,
      figures,
      window: { seconds: this.options.windowSeconds, bucketSeconds: this.slotMs / 1000 },
      agents: [
        ...this.agents.entries().map(([name, window]) => [name, window.summary(now, this.histogram)] as const),
        // Tools are shown beside the agents as `tool:<name>`, so a failing one is visible by name.
        ...this.tools.entries().map(([name, window]) => [`tool:${name}`, window.summary(now, this.histogram)] as const),
      ],
      errorsByCategory: this.errors.sumInto(now, this.categoryCounts.fill(0)),
      rateLimits: this.models.entries().map(([name, limits]) => [name, limits.read(now)] as const),
      models: this.modelAttempts.entries().map(([name, window]) => [name, window.read(now)] as const),
      lastError: this.lastError,
      process: { uncaughtExceptions: this.uncaughtExceptions, unhandledRejections: this.unhandledRejections },
    });
  }

  /** What the windows show as of `now`, across all agents and models. */
  private figures(now: number): WindowFigures {
    const calls = emptyCallTotals();
    const histogram = this.histogram.fill(0);
    for (const [, window] of this.agents.entries()) window.accumulate(now, calls, histogram);
    let signals = 0;
    for (const [, limits] of this.models.entries()) signals += limits.count(now);
    return {
      at: now,
      calls: calls.calls,
      errors: calls.errors,
      p95: histogramQuantile(histogram, calls.calls, 0.95, calls.latencyMax),
      answered: this.deliveries.sum(now, ANSWERED),
      failedDeliveries: this.deliveries.sum(now, FAILED),
      // A rate limit shows up both as a signal (retried or not) and, when it made a call fail,
      // as a RATE_LIMIT error: the larger of the two counts each incident once.
      rateLimits: Math.max(signals, this.errors.sum(now, RATE_LIMIT_INDEX)),
      consecutiveFailures: this.consecutiveFailures,
      lastFailureAt: this.lastFailureAt,
      connection: this.connection,
      reconnects: this.reconnects,
      tools: this.tools.entries().map(([name, window]) => window.figures(name, now, this.histogram)),
      models: this.modelAttempts.entries().map(([name, window]) => ({ name, ...window.counts(now) })),
    };
  }

  private evaluate(now: number): HealthVerdict {
    return this.evaluateWith(this.figures(now));
  }

  /** Judges the figures against the last judgement and reports a status change once. */
  private evaluateWith(figures: WindowFigures): HealthVerdict {
    this.lastEvaluatedEpoch = Math.floor(figures.at / this.slotMs);
    const from = this.judgement.status;
    this.judgement = judge(figures, this.options, this.judgement);
    const { status, reasons, improvement } = this.judgement;
    if (status !== from) {
      // The log line says why, also when the new status has no reasons of its own (healthy).
      const why = improvement === undefined ? reasons : [`recovered: ${improvement}`, ...reasons];
      this.options.onStatusChange?.({ from, to: status, reasons: why, at: figures.at });
    }
    return { status, reasons };
  }
}

/** Which connection state is worse, so the worst of several apps' connections stands for them. */
const CONNECTION_SEVERITY: Record<ConnectionState, number> = {
  off: 0,
  connected: 1,
  connecting: 2,
  reconnecting: 3,
  failed: 4,
};

/**
 * Feeds the monitor from the event bus; returns the unsubscribe function.
 * An 'agent.call' that failed with a category is also counted as an error of that category, so
 * producers report a failed call once (as 'agent.call'), and use 'error' for failures outside
 * agent calls.
 *
 * @example
 * const detach = attachHealthMonitor(bus, monitor);
 */
export function attachHealthMonitor(bus: EventBus, monitor: HealthMonitor): () => void {
  /** Each app's long connection (bounded by the configured apps). */
  const connections = new Map<string, { state: ConnectionState; reconnects: number }>();
  return bus.subscribe((event) => {
    switch (event.type) {
      case 'agent.call':
        monitor.trackAgentCall(event.agent, event.latencyMs, event.outcome);
        if (event.outcome === 'error' && event.errorCategory !== undefined) {
          monitor.trackError(event.errorCategory, `${event.agent} call to ${event.model} failed`);
        }
        break;
      case 'error':
        monitor.trackError(event.category, `${event.where}: ${event.message}`);
        break;
      case 'tool.call': {
        const category = event.errorCategory ?? (event.error === undefined ? undefined : 'OTHER');
        monitor.trackToolCall(event.tool, event.latencyMs, {
          fault: category !== undefined && category !== 'NO_SCOPE' && isToolFault(category),
          missingScope: category === 'NO_SCOPE',
          problem: event.error,
        });
        break;
      }
      case 'model.rate-limit':
        monitor.trackRateLimit(event.model, event.retryAfterMs, event.remaining);
        break;
      case 'model.attempt':
        monitor.trackModelAttempt(event.model, event.outcome, event.category);
        break;
      case 'model.breaker':
        monitor.setModelBreaker(event.model, event.state, event.cooldownMs);
        break;
      case 'feishu.connection': {
        // Several apps: the worst of their connections counts, with every reconnect.
        connections.set(event.app ?? '', { state: event.state, reconnects: event.reconnects });
        const all = [...connections.values()];
        const worst = all.reduce((a, b) => (CONNECTION_SEVERITY[b.state] > CONNECTION_SEVERITY[a.state] ? b : a));
        monitor.setConnectionState(
          worst.state,
          all.reduce((sum, each) => sum + each.reconnects, 0),
        );
        break;
      }
      case 'job.finished':
        // 'released' is a hand-back at shutdown: neither answered nor failed.
        if (event.outcome === 'done') monitor.trackDelivery('answered');
        else if (event.outcome === 'retry' || event.outcome === 'dead') monitor.trackDelivery('failed');
        break;
      case 'process.error':
        monitor.trackProcessError(event.kind);
        break;
      default:
        break;
    }
  });
}

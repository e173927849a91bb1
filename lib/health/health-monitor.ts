import type { Config } from '../config.js';
import type { ConnectionState } from '../observe/bot-event.js';
import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';
import type { EventBus } from '../observe/event-bus.js';
import { histogramQuantile, LATENCY_BUCKET_COUNT, latencyBucketIndex } from './latency-histogram.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
export type CallOutcome = 'success' | 'error';
export type ProcessErrorKind = 'uncaughtException' | 'unhandledRejection';

export interface HealthMonitorOptions {
  /** Length of the sliding window. Default 300 s. */
  windowSeconds?: number;
  /** Slots in the ring; the window slides one slot at a time. Default 60 (5 s slots for 300 s). */
  bucketCount?: number;
  /** Error rate (0…1) over the window at which the status is degraded. Default 0.2. */
  degradedErrorRate?: number;
  /** Error rate (0…1) over the window at which the status is unhealthy. Default 0.5. */
  unhealthyErrorRate?: number;
  /** Rate-limit answers in the window at which the status is degraded. Default 5. */
  degradedRateLimits?: number;
  /**
   * Calls the window must hold before its error rate or latency counts, and the length of an
   * unbroken run of failed calls that is unhealthy on its own. Default 5.
   */
  minCalls?: number;
  /** p95 latency (ms) over the window at which the status is degraded. Default 60 000. */
  degradedP95Ms?: number;
  /**
   * To improve, a condition must clear by a margin: thresholds are multiplied by this factor
   * (0 < factor ≤ 1) when deciding whether the status may get better. Default 0.75.
   */
  recoveryFactor?: number;
  /** …and stay clear (by that margin) for this long before the status gets better. Default 30 s. */
  recoveryDwellMs?: number;
  /** Distinct agent names tracked; further names are counted under 'other'. Default 64. */
  maxAgents?: number;
  /** Distinct provider/model keys tracked for rate limits; further keys fold into 'other'. Default 32. */
  maxModels?: number;
  /** lastError.message is cut to this many characters. Default 300. */
  maxErrorMessageLength?: number;
  /** Values scrubbed from error messages (the config's secrets). */
  secrets?: readonly string[];
  /** Called once per status transition (the bot logs it). Must not throw. */
  onStatusChange?: (change: StatusChange) => void;
  now?: () => number;
}

export interface StatusChange {
  from: HealthStatus;
  to: HealthStatus;
  reasons: string[];
  at: number;
}

export interface AgentHealth {
  callCount: number;
  successCount: number;
  errorCount: number;
  /** errorCount / callCount over the window, 0 without calls. */
  errorRate: number;
  /** Milliseconds, one decimal. */
  avgLatency: number;
  p50Latency: number;
  p95Latency: number;
  p99Latency: number;
  maxLatency: number;
  /** Last call ever (not only within the window), ISO-8601, or null. */
  lastCall: string | null;
}

export interface LastError {
  category: ErrorCategory;
  message: string;
  timestamp: string;
}

export interface RateLimitHealth {
  /** Rate-limit answers from this provider/model within the window. */
  count: number;
  lastAt: string | null;
  /** The last retry-after the provider asked for, in ms, when it sent one. */
  retryAfterMs: number | null;
  /** The provider's last reported remaining quota (x-ratelimit-remaining-*), when it sent one. */
  remaining: number | null;
}

/** What the monitor knows; `/health` adds uptime, instance and readiness checks around it. */
export interface HealthSnapshot {
  status: HealthStatus;
  /** Why the status is what it is: empty when healthy and nothing is pending. */
  reasons: string[];
  timestamp: string;
  window: { seconds: number; bucketSeconds: number };
  calls: { total: number; errors: number; errorRate: number; consecutiveFailures: number; p95Latency: number };
  errors: {
    total: number;
    rateLimits: number;
    timeouts: number;
    other: number;
    byCategory: Record<ErrorCategory, number>;
  };
  agents: Record<string, AgentHealth>;
  lastError: LastError | null;
  rateLimits: { total: number; byModel: Record<string, RateLimitHealth> };
  feishu: { connection: ConnectionState; reconnects: number };
  process: { uncaughtExceptions: number; unhandledRejections: number };
  /** Inbox jobs finished in the window: answered, or failed (retried or given up). */
  deliveries: { answered: number; failed: number };
}

interface ResolvedOptions {
  windowSeconds: number;
  bucketCount: number;
  degradedErrorRate: number;
  unhealthyErrorRate: number;
  degradedRateLimits: number;
  minCalls: number;
  degradedP95Ms: number;
  recoveryFactor: number;
  recoveryDwellMs: number;
  maxAgents: number;
  maxModels: number;
  maxErrorMessageLength: number;
  secrets: readonly string[];
  onStatusChange: ((change: StatusChange) => void) | undefined;
  now: () => number;
}

const DEFAULTS: Omit<ResolvedOptions, 'onStatusChange'> = {
  windowSeconds: 300,
  bucketCount: 60,
  degradedErrorRate: 0.2,
  unhealthyErrorRate: 0.5,
  degradedRateLimits: 5,
  minCalls: 5,
  degradedP95Ms: 60_000,
  recoveryFactor: 0.75,
  recoveryDwellMs: 30_000,
  maxAgents: 64,
  maxModels: 32,
  maxErrorMessageLength: 300,
  secrets: [],
  now: Date.now,
};

const OTHER = 'other';
const MAX_NAME_LENGTH = 64;
const CATEGORY_COUNT = ERROR_CATEGORIES.length;
const CATEGORY_INDEX = new Map<string, number>(ERROR_CATEGORIES.map((category, index) => [category, index]));
const RATE_LIMIT_INDEX = CATEGORY_INDEX.get('RATE_LIMIT')!;
const OTHER_CATEGORY_INDEX = CATEGORY_INDEX.get('OTHER')!;
const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
const EMPTY_EPOCH = Number.NEGATIVE_INFINITY;

/** One agent's slice of the ring: counters and a latency histogram per slot, allocated once. */
class AgentWindow {
  readonly epochs: Float64Array;
  readonly calls: Uint32Array;
  readonly errors: Uint32Array;
  readonly latencySum: Float64Array;
  readonly latencyMax: Float64Array;
  readonly histogram: Uint32Array;
  lastCallAt = -1;

  constructor(bucketCount: number) {
    this.epochs = new Float64Array(bucketCount).fill(EMPTY_EPOCH);
    this.calls = new Uint32Array(bucketCount);
    this.errors = new Uint32Array(bucketCount);
    this.latencySum = new Float64Array(bucketCount);
    this.latencyMax = new Float64Array(bucketCount);
    this.histogram = new Uint32Array(bucketCount * LATENCY_BUCKET_COUNT);
  }

  record(epoch: number, slot: number, latencyMs: number, isError: boolean, now: number): void {
    if (this.epochs[slot] !== epoch) {
      // The slot last held a window that has slid out: reuse it in place.
      this.epochs[slot] = epoch;
      this.calls[slot] = 0;
      this.errors[slot] = 0;
      this.latencySum[slot] = 0;
      this.latencyMax[slot] = 0;
      this.histogram.fill(0, slot * LATENCY_BUCKET_COUNT, (slot + 1) * LATENCY_BUCKET_COUNT);
    }
    this.calls[slot]!++;
    if (isError) this.errors[slot]!++;
    this.latencySum[slot]! += latencyMs;
    if (latencyMs > this.latencyMax[slot]!) this.latencyMax[slot] = latencyMs;
    this.histogram[slot * LATENCY_BUCKET_COUNT + latencyBucketIndex(latencyMs)]!++;
    this.lastCallAt = now;
  }
}

/** Rate-limit answers of one provider/model per slot, plus what its last answer said. */
class ModelWindow {
  readonly epochs: Float64Array;
  readonly counts: Uint32Array;
  lastAt = -1;
  retryAfterMs: number | null = null;
  remaining: number | null = null;

  constructor(bucketCount: number) {
    this.epochs = new Float64Array(bucketCount).fill(EMPTY_EPOCH);
    this.counts = new Uint32Array(bucketCount);
  }
}

export interface HealthVerdict {
  status: HealthStatus;
  reasons: string[];
}

interface WindowFigures {
  calls: number;
  errors: number;
  answered: number;
  failedDeliveries: number;
  p95: number;
  rateLimits: number;
  consecutiveFailures: number;
  streakActive: boolean;
}

/**
 * Watches every agent call, error and provider rate limit over a sliding window and turns them
 * into healthy / degraded / unhealthy.
 *
 * The window is a ring of `bucketCount` slots of `windowSeconds / bucketCount` each; a slot is
 * reset in place when time comes back round to it, so old bursts age out and recording allocates
 * nothing. Latency percentiles come from a fixed log-spaced histogram per slot
 * (see latency-histogram.ts), within about 9 % of the exact value.
 *
 * Status rules (thresholds from config):
 * - unhealthy: the last `minCalls` agent calls all failed (a real outage shows within a few
 *   calls, however many old successes the window holds); or, with at least `minCalls` calls in
 *   the window, the error rate ≥ unhealthyErrorRate; or the Feishu long connection has failed
 *   (nothing can arrive, so the bot is down for its users).
 * - degraded: error rate ≥ degradedErrorRate (with ≥ minCalls calls), ≥ degradedRateLimits rate
 *   limits, p95 latency ≥ degradedP95Ms (with ≥ minCalls calls), or the long connection is
 *   reconnecting.
 * - Hysteresis: getting worse is immediate. Getting better needs the conditions to clear by a
 *   margin (thresholds × recoveryFactor) and to stay clear for recoveryDwellMs, judged at each
 *   evaluation (every read, every slot change while calls come in, every failure streak).
 *
 * @example
 * const monitor = new HealthMonitor({ windowSeconds: 300, minCalls: 5 });
 * monitor.trackAgentCall('manager', 840, 'success');
 * monitor.snapshot().status; // 'healthy'
 */
export class HealthMonitor {
  private options!: ResolvedOptions;
  private bucketMs = 0;
  private agents = new Map<string, AgentWindow>();
  private otherAgent: AgentWindow | undefined;
  private errorEpochs!: Float64Array;
  private errorCounts!: Uint32Array;
  /** Per slot: jobs answered and jobs that failed. Agent calls can all succeed while no answer reaches anyone (Feishu down, permission revoked). */
  private deliveryEpochs!: Float64Array;
  private deliveryCounts!: Uint32Array;
  private models = new Map<string, ModelWindow>();
  private otherModel: ModelWindow | undefined;
  private consecutiveFailures = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private lastError: { category: ErrorCategory; message: string; at: number } | null = null;
  private connectionState: ConnectionState = 'off';
  private reconnects = 0;
  private uncaughtExceptions = 0;
  private unhandledRejections = 0;
  private current: HealthStatus = 'healthy';
  private improvingSince: number | undefined;
  private improvingTarget: HealthStatus = 'healthy';
  private lastEvaluatedEpoch = Number.NEGATIVE_INFINITY;
  // Scratch space for reads, so even /health polling produces little garbage.
  private readonly agentHistogram = new Float64Array(LATENCY_BUCKET_COUNT);
  private readonly combinedHistogram = new Float64Array(LATENCY_BUCKET_COUNT);

  constructor(options: HealthMonitorOptions = {}) {
    this.apply(options, true);
  }

  /** Applies config at start-up. Changing the window shape clears what was recorded. */
  configure(options: HealthMonitorOptions): this {
    const merged = { ...this.options, ...withoutUndefined(options) };
    const reshaped =
      merged.windowSeconds !== this.options.windowSeconds ||
      merged.bucketCount !== this.options.bucketCount ||
      merged.maxAgents !== this.options.maxAgents ||
      merged.maxModels !== this.options.maxModels;
    this.apply(merged, reshaped);
    return this;
  }

  /** Forgets everything recorded (tests; a fresh process starts empty anyway). */
  reset(): void {
    this.apply(this.options, true);
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
    const epoch = Math.floor(now / this.bucketMs);
    // Negative latency only comes from a clock step; count the call, not the nonsense.
    const latency = Math.max(latencyMs, 0);
    this.agentWindow(agent).record(epoch, epoch % this.options.bucketCount, latency, isError, now);
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
    if (epoch !== this.lastEvaluatedEpoch) this.evaluate(now);
  }

  /** Counts an error by category over the window and remembers it as the last error. */
  trackError(category: ErrorCategory | string, message: string): void {
    const now = this.options.now();
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % this.options.bucketCount;
    if (this.errorEpochs[slot] !== epoch) {
      this.errorEpochs[slot] = epoch;
      this.errorCounts.fill(0, slot * CATEGORY_COUNT, (slot + 1) * CATEGORY_COUNT);
    }
    const index = CATEGORY_INDEX.get(category) ?? OTHER_CATEGORY_INDEX;
    this.errorCounts[slot * CATEGORY_COUNT + index]!++;
    this.lastError = {
      category: ERROR_CATEGORIES[index]!,
      message: sanitizeErrorMessage(message, this.options.secrets, this.options.maxErrorMessageLength),
      at: now,
    };
  }

  /** Counts one inbox job that finished: its answer reached the user, or the attempt failed. */
  trackDelivery(outcome: 'answered' | 'failed'): void {
    const epoch = Math.floor(this.options.now() / this.bucketMs);
    const slot = epoch % this.options.bucketCount;
    if (this.deliveryEpochs[slot] !== epoch) {
      this.deliveryEpochs[slot] = epoch;
      this.deliveryCounts[slot * 2] = 0;
      this.deliveryCounts[slot * 2 + 1] = 0;
    }
    this.deliveryCounts[slot * 2 + (outcome === 'answered' ? 0 : 1)]!++;
  }

  /**
   * Counts a rate-limit answer from a provider/model, with what it said about when to retry
   * and how much quota is left (either may be absent).
   */
  trackRateLimit(key: string, retryAfterMs?: number, remaining?: number): void {
    const now = this.options.now();
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % this.options.bucketCount;
    const model = this.modelWindow(key);
    if (model.epochs[slot] !== epoch) {
      model.epochs[slot] = epoch;
      model.counts[slot] = 0;
    }
    model.counts[slot]!++;
    model.lastAt = now;
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) model.retryAfterMs = Math.max(0, retryAfterMs);
    if (remaining !== undefined && Number.isFinite(remaining)) model.remaining = remaining;
  }

  /** The Feishu long connection's state ('off' in webhook mode). */
  setConnectionState(state: ConnectionState, reconnects = this.reconnects): void {
    this.connectionState = state;
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
    const currentEpoch = Math.floor(now / this.bucketMs);
    const agents: Record<string, AgentHealth> = {};
    for (const [name, window] of this.agentEntries()) {
      agents[name] = this.agentHealth(window, currentEpoch);
    }
    const figures = this.figures(now);
    const verdict = this.evaluateWith(figures, now);

    const byCategory = this.errorsByCategory(currentEpoch);
    let total = 0;
    for (const category of ERROR_CATEGORIES) total += byCategory[category];

    const byModel: Record<string, RateLimitHealth> = {};
    let rateLimitTotal = 0;
    for (const [name, model] of this.modelEntries()) {
      const count = sumSlots(model.epochs, model.counts, currentEpoch, this.options.bucketCount);
      rateLimitTotal += count;
      byModel[name] = {
        count,
        lastAt: model.lastAt < 0 ? null : new Date(model.lastAt).toISOString(),
        retryAfterMs: model.retryAfterMs,
        remaining: model.remaining,
      };
    }

    return {
      status: verdict.status,
      reasons: verdict.reasons,
      timestamp: new Date(now).toISOString(),
      window: { seconds: this.options.windowSeconds, bucketSeconds: this.bucketMs / 1000 },
      calls: {
        total: figures.calls,
        errors: figures.errors,
        errorRate: figures.calls === 0 ? 0 : round(figures.errors / figures.calls, 4),
        consecutiveFailures: this.consecutiveFailures,
        p95Latency: round(figures.p95, 1),
      },
      errors: {
        total,
        // A rate limit shows up both as a signal (retried or not) and, when it made a call fail,
        // as a RATE_LIMIT error: the larger of the two counts each incident once.
        rateLimits: Math.max(rateLimitTotal, byCategory.RATE_LIMIT),
        timeouts: byCategory.TIMEOUT,
        other: total - byCategory.RATE_LIMIT - byCategory.TIMEOUT,
        byCategory,
      },
      agents,
      lastError:
        this.lastError === null
          ? null
          : {
              category: this.lastError.category,
              message: this.lastError.message,
              timestamp: new Date(this.lastError.at).toISOString(),
            },
      rateLimits: { total: rateLimitTotal, byModel },
      feishu: { connection: this.connectionState, reconnects: this.reconnects },
      deliveries: { answered: figures.answered, failed: figures.failedDeliveries },
      process: { uncaughtExceptions: this.uncaughtExceptions, unhandledRejections: this.unhandledRejections },
    };
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private apply(options: HealthMonitorOptions, reshape: boolean): void {
    const resolved: ResolvedOptions = { ...DEFAULTS, onStatusChange: undefined, ...withoutUndefined(options) };
    validate(resolved);
    this.options = resolved;
    this.bucketMs = (resolved.windowSeconds * 1000) / resolved.bucketCount;
    if (!reshape) return;
    this.agents = new Map();
    this.otherAgent = undefined;
    this.models = new Map();
    this.otherModel = undefined;
    this.errorEpochs = new Float64Array(resolved.bucketCount).fill(EMPTY_EPOCH);
    this.errorCounts = new Uint32Array(resolved.bucketCount * CATEGORY_COUNT);
    this.deliveryEpochs = new Float64Array(resolved.bucketCount).fill(EMPTY_EPOCH);
    this.deliveryCounts = new Uint32Array(resolved.bucketCount * 2);
    this.consecutiveFailures = 0;
    this.lastFailureAt = Number.NEGATIVE_INFINITY;
    this.lastError = null;
    this.connectionState = 'off';
    this.reconnects = 0;
    this.uncaughtExceptions = 0;
    this.unhandledRejections = 0;
    this.current = 'healthy';
    this.improvingSince = undefined;
    this.improvingTarget = 'healthy';
    this.lastEvaluatedEpoch = Number.NEGATIVE_INFINITY;
  }

  private agentWindow(name: string): AgentWindow {
    const known = this.agents.get(name);
    if (known !== undefined) return known;
    // One slot stays reserved for 'other', so the map never holds more than maxAgents rings.
    if (
      name === OTHER ||
      name.length === 0 ||
      name.length > MAX_NAME_LENGTH ||
      this.agents.size >= this.options.maxAgents - 1
    ) {
      this.otherAgent ??= new AgentWindow(this.options.bucketCount);
      return this.otherAgent;
    }
    const created = new AgentWindow(this.options.bucketCount);
    this.agents.set(name, created);
    return created;
  }

  private modelWindow(name: string): ModelWindow {
    const known = this.models.get(name);
    if (known !== undefined) return known;
    if (
      name === OTHER ||
      name.length === 0 ||
      name.length > MAX_NAME_LENGTH ||
      this.models.size >= this.options.maxModels - 1
    ) {
      this.otherModel ??= new ModelWindow(this.options.bucketCount);
      return this.otherModel;
    }
    const created = new ModelWindow(this.options.bucketCount);
    this.models.set(name, created);
    return created;
  }

  private agentEntries(): Array<[string, AgentWindow]> {
    const entries = [...this.agents.entries()];
    if (this.otherAgent !== undefined) entries.push([OTHER, this.otherAgent]);
    return entries;
  }

  private modelEntries(): Array<[string, ModelWindow]> {
    const entries = [...this.models.entries()];
    if (this.otherModel !== undefined) entries.push([OTHER, this.otherModel]);
    return entries;
  }

  private isLive(epoch: number, currentEpoch: number): boolean {
    return epoch <= currentEpoch && epoch > currentEpoch - this.options.bucketCount;
  }

  private agentHealth(window: AgentWindow, currentEpoch: number): AgentHealth {
    const histogram = this.agentHistogram.fill(0);
    let calls = 0;
    let errors = 0;
    let latencySum = 0;
    let latencyMax = 0;
    for (let slot = 0; slot < this.options.bucketCount; slot++) {
      if (!this.isLive(window.epochs[slot]!, currentEpoch)) continue;
      calls += window.calls[slot]!;
      errors += window.errors[slot]!;
      latencySum += window.latencySum[slot]!;
      if (window.latencyMax[slot]! > latencyMax) latencyMax = window.latencyMax[slot]!;
      const offset = slot * LATENCY_BUCKET_COUNT;
      for (let bucket = 0; bucket < LATENCY_BUCKET_COUNT; bucket++)
        histogram[bucket]! += window.histogram[offset + bucket]!;
    }
    return {
      callCount: calls,
      successCount: calls - errors,
      errorCount: errors,
      errorRate: calls === 0 ? 0 : round(errors / calls, 4),
      avgLatency: calls === 0 ? 0 : round(latencySum / calls, 1),
      p50Latency: round(histogramQuantile(histogram, calls, 0.5, latencyMax), 1),
      p95Latency: round(histogramQuantile(histogram, calls, 0.95, latencyMax), 1),
      p99Latency: round(histogramQuantile(histogram, calls, 0.99, latencyMax), 1),
      maxLatency: round(latencyMax, 1),
      lastCall: window.lastCallAt < 0 ? null : new Date(window.lastCallAt).toISOString(),
    };
  }

  private errorsByCategory(currentEpoch: number): Record<ErrorCategory, number> {
    const counts = Object.fromEntries(ERROR_CATEGORIES.map((category) => [category, 0])) as Record<
      ErrorCategory,
      number
    >;
    for (let slot = 0; slot < this.options.bucketCount; slot++) {
      if (!this.isLive(this.errorEpochs[slot]!, currentEpoch)) continue;
      for (let index = 0; index < CATEGORY_COUNT; index++) {
        counts[ERROR_CATEGORIES[index]!] += this.errorCounts[slot * CATEGORY_COUNT + index]!;
      }
    }
    return counts;
  }

  /** The window totals the status rules look at, across all agents. */
  private figures(now: number): WindowFigures {
    const currentEpoch = Math.floor(now / this.bucketMs);
    const histogram = this.combinedHistogram.fill(0);
    let calls = 0;
    let errors = 0;
    let latencyMax = 0;
    for (const [, window] of this.agentEntries()) {
      for (let slot = 0; slot < this.options.bucketCount; slot++) {
        if (!this.isLive(window.epochs[slot]!, currentEpoch)) continue;
        const slotCalls = window.calls[slot]!;
        if (slotCalls === 0) continue;
        calls += slotCalls;
        errors += window.errors[slot]!;
        if (window.latencyMax[slot]! > latencyMax) latencyMax = window.latencyMax[slot]!;
        const offset = slot * LATENCY_BUCKET_COUNT;
        for (let bucket = 0; bucket < LATENCY_BUCKET_COUNT; bucket++)
          histogram[bucket]! += window.histogram[offset + bucket]!;
      }
    }
    let signals = 0;
    for (const [, model] of this.modelEntries()) {
      signals += sumSlots(model.epochs, model.counts, currentEpoch, this.options.bucketCount);
    }
    let rateLimitErrors = 0;
    for (let slot = 0; slot < this.options.bucketCount; slot++) {
      if (this.isLive(this.errorEpochs[slot]!, currentEpoch)) {
        rateLimitErrors += this.errorCounts[slot * CATEGORY_COUNT + RATE_LIMIT_INDEX]!;
      }
    }
    let answered = 0;
    let failedDeliveries = 0;
    for (let slot = 0; slot < this.options.bucketCount; slot++) {
      if (!this.isLive(this.deliveryEpochs[slot]!, currentEpoch)) continue;
      answered += this.deliveryCounts[slot * 2]!;
      failedDeliveries += this.deliveryCounts[slot * 2 + 1]!;
    }
    return {
      calls,
      errors,
      answered,
      failedDeliveries,
      p95: histogramQuantile(histogram, calls, 0.95, latencyMax),
      rateLimits: Math.max(signals, rateLimitErrors),
      consecutiveFailures: this.consecutiveFailures,
      // A streak that ended in silence long ago is history, not an outage.
      streakActive:
        this.consecutiveFailures >= this.options.minCalls &&
        now - this.lastFailureAt < this.options.windowSeconds * 1000,
    };
  }

  /** The raw verdict for thresholds scaled by `factor` (1 to get worse, recoveryFactor to get better). */
  private judge(figures: WindowFigures, factor: number): HealthVerdict {
    const o = this.options;
    const unhealthy: string[] = [];
    const degraded: string[] = [];
    const windowText = `${o.windowSeconds} s`;
    if (this.connectionState === 'failed') {
      unhealthy.push('Feishu long connection failed: no events can arrive');
    } else if (this.connectionState === 'reconnecting') {
      degraded.push(`Feishu long connection reconnecting (${this.reconnects} reconnects)`);
    }
    if (figures.streakActive) {
      unhealthy.push(`last ${figures.consecutiveFailures} agent calls all failed`);
    }
    if (figures.calls >= o.minCalls) {
      const rate = figures.errors / figures.calls;
      const ratio = `${percent(rate)} of ${figures.calls} calls failed in ${windowText}`;
      if (rate >= o.unhealthyErrorRate * factor) {
        unhealthy.push(`${ratio} (unhealthy at ${percent(o.unhealthyErrorRate * factor)})`);
      } else if (rate >= o.degradedErrorRate * factor) {
        degraded.push(`${ratio} (degraded at ${percent(o.degradedErrorRate * factor)})`);
      }
      if (figures.p95 >= o.degradedP95Ms * factor) {
        degraded.push(
          `p95 latency ${Math.round(figures.p95)} ms in ${windowText} (degraded at ${Math.round(o.degradedP95Ms * factor)} ms)`,
        );
      }
    }
    const deliveries = figures.answered + figures.failedDeliveries;
    if (deliveries >= o.minCalls) {
      const rate = figures.failedDeliveries / deliveries;
      const ratio = `${figures.failedDeliveries} of ${deliveries} messages failed to get an answer in ${windowText}`;
      if (rate >= o.unhealthyErrorRate * factor) unhealthy.push(ratio);
      else if (rate >= o.degradedErrorRate * factor) degraded.push(ratio);
    }
    if (figures.rateLimits >= o.degradedRateLimits * factor) {
      degraded.push(
        `${figures.rateLimits} rate limits in ${windowText} (degraded at ${Math.ceil(o.degradedRateLimits * factor)})`,
      );
    }
    if (unhealthy.length > 0) return { status: 'unhealthy', reasons: [...unhealthy, ...degraded] };
    if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
    return { status: 'healthy', reasons: [] };
  }

  private evaluate(now: number): HealthVerdict {
    return this.evaluateWith(this.figures(now), now);
  }

  private evaluateWith(figures: WindowFigures, now: number): HealthVerdict {
    this.lastEvaluatedEpoch = Math.floor(now / this.bucketMs);
    const strict = this.judge(figures, 1);
    if (RANK[strict.status] >= RANK[this.current]) {
      // Worse (or unchanged): no waiting, an outage must show at once.
      this.improvingSince = undefined;
      this.transition(strict.status, strict.reasons, now);
      return strict;
    }
    const relaxed = this.judge(figures, this.options.recoveryFactor);
    if (RANK[relaxed.status] >= RANK[this.current]) {
      this.improvingSince = undefined;
      return {
        status: this.current,
        reasons: [
          ...relaxed.reasons,
          `holding ${this.current}: conditions must clear by the recovery margin (thresholds × ${this.options.recoveryFactor})`,
        ],
      };
    }
    if (this.improvingSince === undefined) {
      this.improvingSince = now;
      this.improvingTarget = relaxed.status;
    } else if (RANK[relaxed.status] > RANK[this.improvingTarget]) {
      this.improvingTarget = relaxed.status;
    }
    const clearFor = now - this.improvingSince;
    if (clearFor >= this.options.recoveryDwellMs) {
      const target = this.improvingTarget;
      this.improvingSince = undefined;
      const reasons = target === relaxed.status ? relaxed.reasons : strict.reasons;
      this.transition(target, reasons, now);
      // A second step (unhealthy → degraded → healthy) starts its own dwell.
      return { status: target, reasons };
    }
    return {
      status: this.current,
      reasons: [
        ...relaxed.reasons,
        `recovering: holding ${this.current} until conditions stay clear for ${seconds(this.options.recoveryDwellMs)} (${seconds(clearFor)} so far)`,
      ],
    };
  }

  private transition(to: HealthStatus, reasons: string[], now: number): void {
    if (to === this.current) return;
    const from = this.current;
    this.current = to;
    this.options.onStatusChange?.({ from, to, reasons, at: now });
  }
}

/** Health options from the validated config (`config.health` plus its secrets). */
export function healthOptionsFromConfig(config: Pick<Config, 'health' | 'secrets'>): HealthMonitorOptions {
  return {
    windowSeconds: config.health.windowSeconds,
    degradedErrorRate: config.health.degradedErrorRate,
    unhealthyErrorRate: config.health.unhealthyErrorRate,
    degradedRateLimits: config.health.degradedRateLimits,
    minCalls: config.health.minCalls,
    degradedP95Ms: config.health.degradedP95Ms,
    secrets: config.secrets,
  };
}

/**
 * The process-wide monitor. server.ts configures it from config at start-up; producers that do
 * not go through the event bus call its track* methods directly.
 */
export const healthMonitor = new HealthMonitor();

/**
 * Feeds the monitor from the event bus; returns the unsubscribe function.
 * An 'agent.call' that failed with a category is also counted as an error of that category, so
 * producers report a failed call once (as 'agent.call'), and use 'error' for failures outside
 * agent calls.
 *
 * @example
 * const detach = attachHealthMonitor(bus, healthMonitor);
 */
export function attachHealthMonitor(bus: EventBus, monitor: HealthMonitor): () => void {
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
      case 'model.rate-limit':
        monitor.trackRateLimit(event.model, event.retryAfterMs, event.remaining);
        break;
      case 'feishu.connection':
        monitor.setConnectionState(event.state, event.reconnects);
        break;
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

/**
 * Cuts an error message to `maxLength` and removes anything that looks like a credential:
 * configured secrets verbatim, bearer tokens, `sk-…` API keys, Feishu tenant/app tokens and
 * `key=value` pairs whose key names a secret.
 */
export function sanitizeErrorMessage(message: string, secrets: readonly string[] = [], maxLength = 300): string {
  let text = typeof message === 'string' ? message : String(message);
  for (const secret of secrets) {
    if (secret.length >= 4 && text.includes(secret)) text = text.split(secret).join('[Redacted]');
  }
  text = text
    .replace(/\b(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[Redacted]')
    .replace(/\bsk-[A-Za-z0-9_-]{8,}/g, '[Redacted]')
    .replace(/\b[tu]-[A-Za-z0-9_-]{20,}/g, '[Redacted]')
    .replace(
      /\b((?:api[_-]?key|access[_-]?token|app[_-]?secret|encrypt[_-]?key|token|secret|password|authorization)["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
      '$1[Redacted]',
    )
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

function sumSlots(epochs: Float64Array, counts: Uint32Array, currentEpoch: number, bucketCount: number): number {
  let total = 0;
  for (let slot = 0; slot < bucketCount; slot++) {
    const epoch = epochs[slot]!;
    if (epoch <= currentEpoch && epoch > currentEpoch - bucketCount) total += counts[slot]!;
  }
  return total;
}

function validate(options: ResolvedOptions): void {
  const problems: string[] = [];
  const positive = (name: keyof ResolvedOptions) => {
    const value = options[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`${name} must be > 0`);
  };
  positive('windowSeconds');
  positive('degradedRateLimits');
  positive('minCalls');
  positive('degradedP95Ms');
  positive('maxErrorMessageLength');
  if (!Number.isInteger(options.bucketCount) || options.bucketCount < 2)
    problems.push('bucketCount must be an integer ≥ 2');
  if (!Number.isInteger(options.maxAgents) || options.maxAgents < 2) problems.push('maxAgents must be an integer ≥ 2');
  if (!Number.isInteger(options.maxModels) || options.maxModels < 2) problems.push('maxModels must be an integer ≥ 2');
  for (const name of ['degradedErrorRate', 'unhealthyErrorRate'] as const) {
    if (!(options[name] > 0 && options[name] <= 1)) problems.push(`${name} must be in (0, 1]`);
  }
  if (options.unhealthyErrorRate < options.degradedErrorRate) {
    problems.push('unhealthyErrorRate must not be below degradedErrorRate');
  }
  if (!(options.recoveryFactor > 0 && options.recoveryFactor <= 1)) problems.push('recoveryFactor must be in (0, 1]');
  if (!(options.recoveryDwellMs >= 0)) problems.push('recoveryDwellMs must be ≥ 0');
  if (problems.length > 0) throw new RangeError(`Invalid health monitor options: ${problems.join('; ')}`);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

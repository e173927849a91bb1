import type { ConnectionState } from '../observe/bot-event.js';
import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';
import type { CallSummary } from './call-window.js';
import type { HealthStatus, HealthVerdict, WindowFigures } from './health-rules.js';
import type { ModelReading } from './model-window.js';
import type { RateLimitReading } from './rate-limit-window.js';

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

/** One model's requests in the window, apart from what users experienced (`calls`). */
export interface ModelHealth {
  attempts: number;
  successes: number;
  failures: number;
  /** failures / attempts, 0 without attempts. */
  errorRate: number;
  /** Calls its open circuit breaker turned away unsent (CIRCUIT_OPEN). */
  refused: number;
  failuresByCategory: Partial<Record<ErrorCategory, number>>;
  breaker: { state: 'closed' | 'open' | 'half-open'; since: string | null; cooldownMs: number | null };
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
  /** Per model: requests, failures and breaker refusals in the window, and the breaker's state. */
  models: Record<string, ModelHealth>;
  feishu: { connection: ConnectionState; reconnects: number };
  process: { uncaughtExceptions: number; unhandledRejections: number };
  /** Inbox jobs finished in the window: answered, or failed (retried or given up). */
  deliveries: { answered: number; failed: number };
}

/** Everything the monitor has read from its windows at one moment, before shaping. */
export interface HealthReading {
  verdict: HealthVerdict;
  figures: WindowFigures;
  window: { seconds: number; bucketSeconds: number };
  agents: ReadonlyArray<readonly [string, CallSummary]>;
  /** Errors in the window per category, indexed like ERROR_CATEGORIES. */
  errorsByCategory: ArrayLike<number>;
  rateLimits: ReadonlyArray<readonly [string, RateLimitReading]>;
  models?: ReadonlyArray<readonly [string, ModelReading]>;
  lastError: { category: ErrorCategory; message: string; at: number } | null;
  process: { uncaughtExceptions: number; unhandledRejections: number };
}

/**
 * Shapes a reading into the `/health` body's monitor part: ISO timestamps, rates and latencies
 * rounded, errors broken down the way the HTTP contract names them. Field names are a public
 * contract: add fields, never rename them.
 *
 * @example
 * const body = healthSnapshot({ verdict, figures, window, agents, errorsByCategory, ... });
 */
export function healthSnapshot(reading: HealthReading): HealthSnapshot {
  const { figures } = reading;
  const byCategory = Object.fromEntries(
    ERROR_CATEGORIES.map((category, index) => [category, reading.errorsByCategory[index] ?? 0]),
  ) as Record<ErrorCategory, number>;
  let total = 0;
  for (const category of ERROR_CATEGORIES) total += byCategory[category];
  const agents: Record<string, AgentHealth> = {};
  for (const [name, summary] of reading.agents) agents[name] = agentHealth(summary);
  const byModel: Record<string, RateLimitHealth> = {};
  let rateLimitTotal = 0;
  for (const [name, limits] of reading.rateLimits) {
    rateLimitTotal += limits.count;
    byModel[name] = { ...limits, lastAt: isoOrNull(limits.lastAt) };
  }
  const models: Record<string, ModelHealth> = {};
  for (const [name, model] of reading.models ?? []) {
    models[name] = {
      ...model,
      errorRate: model.attempts === 0 ? 0 : round(model.failures / model.attempts, 4),
      breaker: { ...model.breaker, since: isoOrNull(model.breaker.since) },
    };
  }
  return {
    status: reading.verdict.status,
    reasons: reading.verdict.reasons,
    timestamp: new Date(figures.at).toISOString(),
    window: reading.window,
    calls: {
      total: figures.calls,
      errors: figures.errors,
      errorRate: figures.calls === 0 ? 0 : round(figures.errors / figures.calls, 4),
      consecutiveFailures: figures.consecutiveFailures,
      p95Latency: round(figures.p95, 1),
    },
    errors: {
      total,
      // Each rate-limit incident once, whether it was signalled, made a call fail, or both.
      rateLimits: figures.rateLimits,
      timeouts: byCategory.TIMEOUT,
      other: total - byCategory.RATE_LIMIT - byCategory.TIMEOUT,
      byCategory,
    },
    agents,
    lastError:
      reading.lastError === null
        ? null
        : {
            category: reading.lastError.category,
            message: reading.lastError.message,
            timestamp: new Date(reading.lastError.at).toISOString(),
          },
    rateLimits: { total: rateLimitTotal, byModel },
    models,
    feishu: { connection: figures.connection, reconnects: figures.reconnects },
    deliveries: { answered: figures.answered, failed: figures.failedDeliveries },
    process: reading.process,
  };
}

/** One agent's entry in `/health` `agents`. */
export function agentHealth({
  calls,
  errors,
  latencySum,
  latencyMax,
  p50,
  p95,
  p99,
  lastCallAt,
}: CallSummary): AgentHealth {
  return {
    callCount: calls,
    successCount: calls - errors,
    errorCount: errors,
    errorRate: calls === 0 ? 0 : round(errors / calls, 4),
    avgLatency: calls === 0 ? 0 : round(latencySum / calls, 1),
    p50Latency: round(p50, 1),
    p95Latency: round(p95, 1),
    p99Latency: round(p99, 1),
    maxLatency: round(latencyMax, 1),
    lastCall: isoOrNull(lastCallAt),
  };
}

function isoOrNull(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

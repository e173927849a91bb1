import type { Config } from '../config.js';
import type { ConnectionState } from '../observe/bot-event.js';
import type { ToolFigures } from './tool-window.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** Order of badness: a higher rank is worse. */
export const STATUS_RANK: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

export interface HealthVerdict {
  status: HealthStatus;
  /** Why the status is what it is: empty when healthy and nothing is pending. */
  reasons: string[];
}

/** The thresholds the rules compare the window against: the `health` config plus the recovery margin. */
export type HealthThresholds = Omit<Config['health'], 'recoveryHoldSeconds'> & {
  recoveryFactor: number;
  recoveryDwellMs: number;
};

/** What the window shows at one moment: everything the status rules look at. */
export interface WindowFigures {
  /** The moment (epoch ms) the figures describe. */
  at: number;
  /** Agent calls and failed agent calls in the window, across all agents. */
  calls: number;
  errors: number;
  /** p95 agent call latency in the window, ms. */
  p95: number;
  /** Inbox jobs in the window whose answer reached the user, and jobs that failed. */
  answered: number;
  failedDeliveries: number;
  /** Provider rate-limit answers in the window. */
  rateLimits: number;
  /** Agent calls that failed in a row, up to now; and when the last one failed. */
  consecutiveFailures: number;
  lastFailureAt: number;
  connection: ConnectionState;
  reconnects: number;
  /** Per tool: calls, faults and missing-scope refusals in the window (absent: no tools called). */
  tools?: readonly ToolFigures[];
  /** Per model: requests sent and how many failed (a fallback may have answered the user). */
  models?: readonly { name: string; attempts: number; failures: number }[];
}

/**
 * A pending improvement: for each status better than the current one, since when the conditions
 * (by the recovery margin) have allowed it without a break. Kept per status, so a step to
 * degraded does not restart the clock that healthy has already been running.
 */
export interface Recovery {
  clearSince: Partial<Record<Exclude<HealthStatus, 'unhealthy'>, number>>;
}

/** What judging needs to remember from the previous judgement. */
export interface PreviousJudgement {
  status: HealthStatus;
  recovery?: Recovery | undefined;
}

export interface Judgement extends HealthVerdict {
  /** Set while the status is holding out for recovery; pass it back in with the next judgement. */
  recovery: Recovery | undefined;
  /** When the status got better: why (for the status-change log line; `reasons` may be empty then). */
  improvement?: string;
}

/**
 * The status the window's conditions call for, with thresholds multiplied by `factor` (1 to
 * get worse, the recovery factor to get better). No hysteresis: see `judge`.
 *
 * - unhealthy: the last `minCalls` agent calls all failed within the window (a real outage shows
 *   within a few calls, however many old successes the window holds); or, with at least
 *   `minCalls` calls (or finished messages), the error rate ≥ unhealthyErrorRate; or the Feishu
 *   long connection has failed (nothing can arrive, so the bot is down for its users).
 * - degraded: error rate ≥ degradedErrorRate (with ≥ minCalls calls or messages), ≥
 *   degradedRateLimits rate limits, p95 latency ≥ degradedP95Ms (with ≥ minCalls calls), or the
 *   long connection is reconnecting; or a tool is broken: a missing Feishu scope in the window, or
 *   its faults ≥ degradedErrorRate of ≥ minCalls calls. A broken tool never makes the bot
 *   unhealthy on its own: the bot still answers, without that tool. Likewise a model whose
 *   requests failed ≥ degradedErrorRate of ≥ minCalls in the window: its fallbacks may answer.
 */
export function assessConditions(figures: WindowFigures, thresholds: HealthThresholds, factor = 1): HealthVerdict {
  const t = thresholds;
  const unhealthy: string[] = [];
  const degraded: string[] = [];
  const windowText = `${t.windowSeconds} s`;
  if (figures.connection === 'failed') {
    unhealthy.push('Feishu long connection failed: no events can arrive');
  } else if (figures.connection === 'reconnecting') {
    degraded.push(`Feishu long connection reconnecting (${figures.reconnects} reconnects)`);
  }
  // A streak that ended in silence long ago is history, not an outage.
  const streakActive =
    figures.consecutiveFailures >= t.minCalls && figures.at - figures.lastFailureAt < t.windowSeconds * 1000;
  if (streakActive) {
    unhealthy.push(`last ${figures.consecutiveFailures} agent calls all failed`);
  }
  if (figures.calls >= t.minCalls) {
    const rate = figures.errors / figures.calls;
    const ratio = `${percent(rate)} of ${figures.calls} calls failed in ${windowText}`;
    if (rate >= t.unhealthyErrorRate * factor) {
      unhealthy.push(`${ratio} (unhealthy at ${percent(t.unhealthyErrorRate * factor)})`);
    } else if (rate >= t.degradedErrorRate * factor) {
      degraded.push(`${ratio} (degraded at ${percent(t.degradedErrorRate * factor)})`);
    }
    if (figures.p95 >= t.degradedP95Ms * factor) {
      degraded.push(
        `p95 latency ${Math.round(figures.p95)} ms in ${windowText} (degraded at ${Math.round(t.degradedP95Ms * factor)} ms)`,
      );
    }
  }
  const deliveries = figures.answered + figures.failedDeliveries;
  if (deliveries >= t.minCalls) {
    const rate = figures.failedDeliveries / deliveries;
    const ratio = `${figures.failedDeliveries} of ${deliveries} messages failed to get an answer in ${windowText}`;
    if (rate >= t.unhealthyErrorRate * factor) unhealthy.push(ratio);
    else if (rate >= t.degradedErrorRate * factor) degraded.push(ratio);
  }
  if (figures.rateLimits >= t.degradedRateLimits * factor) {
    degraded.push(
      `${figures.rateLimits} rate limits in ${windowText} (degraded at ${Math.ceil(t.degradedRateLimits * factor)})`,
    );
  }
  for (const tool of figures.tools ?? []) {
    if (tool.missingScope > 0) {
      degraded.push(`tool ${tool.name}: ${tool.lastProblem ?? 'a Feishu scope is missing'}`);
    } else if (tool.calls >= t.minCalls && tool.faults / tool.calls >= t.degradedErrorRate * factor) {
      degraded.push(
        `tool ${tool.name}: ${percent(tool.faults / tool.calls)} of ${tool.calls} calls failed in ${windowText}${tool.lastProblem ? ` (last: ${tool.lastProblem})` : ''}`,
      );
    }
  }
  for (const model of figures.models ?? []) {
    // Only degraded: users may still be answered by the fallbacks (their own failures show above).
    if (model.attempts >= t.minCalls && model.failures / model.attempts >= t.degradedErrorRate * factor) {
      degraded.push(
        `model ${model.name}: ${percent(model.failures / model.attempts)} of ${model.attempts} requests failed in ${windowText}`,
      );
    }
  }
  if (unhealthy.length > 0) return { status: 'unhealthy', reasons: [...unhealthy, ...degraded] };
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
  return { status: 'healthy', reasons: [] };
}

/**
 * The status for `figures`, given the previous judgement: the conditions of `assessConditions`
 * with hysteresis. Getting worse is immediate, so an outage shows at once. Getting better needs
 * the conditions to clear by a margin (thresholds × recoveryFactor) and to stay clear for
 * recoveryDwellMs (the hold). The clock of each better status runs on its own: if healthy has
 * been allowed for the whole hold, the status goes straight there, and a step to degraded keeps
 * the clock healthy has already been running. Pure: the caller keeps the returned judgement and
 * reports a changed status.
 *
 * @example
 * let last: PreviousJudgement = { status: 'healthy' };
 * last = judge(figures, thresholds, last); // { status, reasons, recovery }
 */
export function judge(figures: WindowFigures, thresholds: HealthThresholds, previous: PreviousJudgement): Judgement {
  const current = previous.status;
  const strict = assessConditions(figures, thresholds, 1);
  if (STATUS_RANK[strict.status] >= STATUS_RANK[current]) {
    return { ...strict, recovery: undefined };
  }
  const relaxed = assessConditions(figures, thresholds, thresholds.recoveryFactor);
  if (STATUS_RANK[relaxed.status] >= STATUS_RANK[current]) {
    return {
      status: current,
      reasons: [
        ...relaxed.reasons,
        `holding ${current}: conditions must clear by the recovery margin (thresholds × ${thresholds.recoveryFactor})`,
      ],
      recovery: undefined,
    };
  }
  const hold = thresholds.recoveryDwellMs;
  const earlier = previous.recovery?.clearSince ?? {};
  const clearSince: Recovery['clearSince'] = {};
  for (const status of BETTER_FIRST) {
    if (STATUS_RANK[status] < STATUS_RANK[current] && STATUS_RANK[relaxed.status] <= STATUS_RANK[status]) {
      clearSince[status] = earlier[status] ?? figures.at;
    }
  }
  const reached = BETTER_FIRST.find((status) => {
    const since = clearSince[status];
    return since !== undefined && figures.at - since >= hold;
  });
  const status = reached ?? current;
  // Still pending: the better statuses than the one reached, with their clocks.
  const pending: Recovery['clearSince'] = {};
  for (const candidate of BETTER_FIRST) {
    const since = clearSince[candidate];
    if (since !== undefined && STATUS_RANK[candidate] < STATUS_RANK[status]) pending[candidate] = since;
  }
  const next = BETTER_FIRST.find((candidate) => pending[candidate] !== undefined);
  const waiting =
    next === undefined
      ? []
      : [
          `recovering: holding ${status} until conditions stay clear for ${seconds(hold)} (${seconds(figures.at - pending[next]!)} so far); ${next} at ${new Date(pending[next]! + hold).toISOString()} unless they get worse`,
        ];
  const reasons = status === current || status === relaxed.status ? relaxed.reasons : strict.reasons;
  return {
    status,
    reasons: [...reasons, ...waiting],
    recovery: next === undefined ? undefined : { clearSince: pending },
    ...(reached === undefined
      ? {}
      : {
          improvement: `conditions clear by the recovery margin (thresholds × ${thresholds.recoveryFactor}) for ${seconds(figures.at - clearSince[reached]!)}, the ${seconds(hold)} hold`,
        }),
  };
}

/** The statuses an unhealthy or degraded bot may recover to, best first. */
const BETTER_FIRST = ['healthy', 'degraded'] as const;

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';
import type { EventTallyFigures } from './event-tally.js';
import type { AgentTotals, MetricTotals } from './metric-totals.js';
import type { TraceStatus } from './trace-reducer.js';

export interface CategoryCount {
  count: number;
  /** count / agent calls (0 when there were none). */
  rate: number;
}

/** The body of GET /devtools/api/stats. */
export interface TrackerStats {
  /** When this process started counting; counters are since then. */
  since: number;
  events: { total: number; inRing: number; ringSize: number; byType: Record<string, number> };
  traces: { inMemory: number; byStatus: Record<TraceStatus, number> };
  messages: number;
  agentCalls: number;
  toolCalls: number;
  toolErrors: number;
  tokens: { input: number; output: number };
  estimatedCostUsd: number;
  agentErrors: { total: number; rate: number; byCategory: Record<ErrorCategory, CategoryCount> };
  /** `error` events (any step, not only model calls) by category. */
  errors: { total: number; byCategory: Record<ErrorCategory, number> };
  agents: Record<string, AgentTotals>;
  subscribers: number;
}

export interface StatsParts {
  since: number;
  ring: { pushed: number; size: number; capacity: number };
  traces: { size: number; byStatus: Record<TraceStatus, number> };
  subscribers: number;
  /** From the Prometheus registry. */
  totals: MetricTotals;
  /** What only devtools counts. */
  tally: EventTallyFigures;
}

/**
 * Puts the stats body together from what each part holds: the ring and the trace table their
 * sizes, the metrics registry the call totals, the tally what only devtools counts.
 *
 * @example
 * composeStats({ since, ring, traces: { size, byStatus }, subscribers: 2, totals, tally }).agentErrors.rate;
 */
export function composeStats({ since, ring, traces, subscribers, totals, tally }: StatsParts): TrackerStats {
  const rate = (value: number) => (totals.agentCalls === 0 ? 0 : value / totals.agentCalls);
  const byCategory = {} as Record<ErrorCategory, CategoryCount>;
  for (const category of ERROR_CATEGORIES) {
    const count = tally.agentErrorsByCategory[category];
    byCategory[category] = { count, rate: rate(count) };
  }
  return {
    since,
    events: { total: ring.pushed, inRing: ring.size, ringSize: ring.capacity, byType: tally.byType },
    traces: { inMemory: traces.size, byStatus: traces.byStatus },
    messages: tally.messages,
    agentCalls: totals.agentCalls,
    toolCalls: totals.toolCalls,
    toolErrors: totals.toolErrors,
    tokens: totals.tokens,
    estimatedCostUsd: tally.estimatedCostUsd,
    agentErrors: { total: totals.agentErrors, rate: rate(totals.agentErrors), byCategory },
    errors: { total: sumValues(tally.errorsByCategory), byCategory: tally.errorsByCategory },
    agents: totals.agents,
    subscribers,
  };
}

function sumValues(record: Record<string, number>): number {
  let total = 0;
  for (const value of Object.values(record)) total += value;
  return total;
}

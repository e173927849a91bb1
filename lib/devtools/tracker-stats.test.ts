import { describe, expect, it } from 'vitest';
import { createEventTally } from './event-tally.js';
import { emptyMetricTotals } from './metric-totals.js';
import { composeStats, type StatsParts } from './tracker-stats.js';

function parts(overrides: Partial<StatsParts> = {}): StatsParts {
  return {
    since: 123,
    ring: { pushed: 10, size: 4, capacity: 4 },
    traces: { size: 2, byStatus: { running: 1, done: 1, failed: 0, dead: 0 } },
    subscribers: 3,
    totals: emptyMetricTotals(),
    tally: createEventTally().figures(),
    ...overrides,
  };
}

describe('composeStats', () => {
  it('takes sizes from the ring and traces, totals from the registry, the rest from the tally', () => {
    const tally = createEventTally();
    tally.add({ type: 'error', category: 'NETWORK', message: 'reset', where: 'feishu' });
    tally.add({
      type: 'agent.call',
      traceId: 't',
      agent: 'manager',
      model: 'gpt-4o',
      latencyMs: 1,
      outcome: 'error',
      inputTokens: 0,
      outputTokens: 0,
      errorCategory: 'TIMEOUT',
    });
    const stats = composeStats(
      parts({
        totals: {
          ...emptyMetricTotals(),
          agentCalls: 4,
          agentErrors: 1,
          toolCalls: 2,
          tokens: { input: 5, output: 6 },
        },
        tally: tally.figures(),
      }),
    );
    expect(stats).toMatchObject({
      since: 123,
      events: { total: 10, inRing: 4, ringSize: 4, byType: { error: 1, 'agent.call': 1 } },
      traces: { inMemory: 2, byStatus: { running: 1, done: 1 } },
      subscribers: 3,
      agentCalls: 4,
      toolCalls: 2,
      tokens: { input: 5, output: 6 },
      agentErrors: { total: 1, rate: 0.25 },
      errors: { total: 1 },
    });
    expect(stats.agentErrors.byCategory.TIMEOUT).toEqual({ count: 1, rate: 0.25 });
    expect(stats.errors.byCategory.NETWORK).toBe(1);
  });

  it('gives rate 0, not NaN, before the first agent call', () => {
    const stats = composeStats(parts());
    expect(stats.agentErrors.rate).toBe(0);
    expect(stats.agentErrors.byCategory.OTHER).toEqual({ count: 0, rate: 0 });
  });
});

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../health/metrics.js';
import type { BotEvent } from '../observe/bot-event.js';
import { emptyMetricTotals, readMetricTotals } from './metric-totals.js';

const call = (agent: string, latencyMs: number, outcome: 'success' | 'error', tokens = [0, 0]): BotEvent => ({
  type: 'agent.call',
  traceId: 't',
  agent,
  model: 'gpt-4o-mini',
  latencyMs,
  outcome,
  inputTokens: tokens[0] ?? 0,
  outputTokens: tokens[1] ?? 0,
});
const tool = (error?: string): BotEvent => ({
  type: 'tool.call',
  traceId: 't',
  agent: 'manager',
  tool: 'search',
  input: '',
  output: '',
  latencyMs: 1,
  ...(error ? { error } : {}),
});

describe('readMetricTotals (the registry behind /metrics)', () => {
  it('reads calls, errors, average latency, tokens and tool calls per agent and in total', async () => {
    const metrics = createMetrics({ instanceId: 'test', collectDefault: false });
    for (const event of [
      call('manager', 300, 'success', [1_000, 500]),
      call('manager', 100, 'error'),
      call('researcher', 50, 'success', [10, 20]),
      tool(),
      tool('boom'),
      tool(),
    ]) {
      metrics.observe(event);
    }
    expect(await readMetricTotals(metrics.registry)).toEqual({
      agentCalls: 3,
      agentErrors: 1,
      toolCalls: 3,
      toolErrors: 1,
      tokens: { input: 1_010, output: 520 },
      agents: {
        manager: { calls: 2, errors: 1, avgLatencyMs: 200, inputTokens: 1_000, outputTokens: 500 },
        researcher: { calls: 1, errors: 0, avgLatencyMs: 50, inputTokens: 10, outputTokens: 20 },
      },
    });
  });

  it('groups agents beyond the registry label limit as "other", and the totals still add up', async () => {
    const metrics = createMetrics({ instanceId: 'test', collectDefault: false, maxAgents: 2 });
    for (const agent of ['a', 'b', 'c']) metrics.observe(call(agent, 10, 'success'));
    const totals = await readMetricTotals(metrics.registry);
    expect(Object.keys(totals.agents).sort()).toEqual(['a', 'other']);
    expect(totals.agents.other?.calls).toBe(2);
    expect(totals.agentCalls).toBe(3);
  });

  it('reads zero from a fresh registry and from one without these series', async () => {
    const fresh = createMetrics({ instanceId: 'test', collectDefault: false });
    expect(await readMetricTotals(fresh.registry)).toEqual(emptyMetricTotals());
    expect(await readMetricTotals(new Registry())).toEqual(emptyMetricTotals());
  });
});

import type { Registry } from 'prom-client';

/** Per-agent figures since start, as the devtools UI shows them beside the health window. */
export interface AgentTotals {
  calls: number;
  errors: number;
  avgLatencyMs: number;
  inputTokens: number;
  outputTokens: number;
}

/** Since-start totals the Prometheus registry already counts; devtools reads them instead of counting again. */
export interface MetricTotals {
  agentCalls: number;
  agentErrors: number;
  toolCalls: number;
  toolErrors: number;
  tokens: { input: number; output: number };
  agents: Record<string, AgentTotals>;
}

/** Where devtools gets its since-start totals (in the service: `() => readMetricTotals(metrics.registry)`). */
export type MetricTotalsSource = () => Promise<MetricTotals>;

/** Series documented in docs/operations.md, written by lib/health/metrics.ts. */
const AGENT_CALLS = 'feishu_bot_agent_calls_total';
const AGENT_DURATION = 'feishu_bot_agent_call_duration_seconds';
const AGENT_TOKENS = 'feishu_bot_agent_tokens_total';
const TOOL_CALLS = 'feishu_bot_tool_calls_total';

type Labels = Partial<Record<string, string | number>>;
interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** Totals of a registry with no series yet: what a tracker without a source reports. */
export function emptyMetricTotals(): MetricTotals {
  return { agentCalls: 0, agentErrors: 0, toolCalls: 0, toolErrors: 0, tokens: { input: 0, output: 0 }, agents: {} };
}

/**
 * Reads agent calls, errors, latency, tokens and tool calls from the service's Prometheus
 * registry (`createMetrics(…).registry`), so the devtools totals and `/metrics` are one count.
 * Agent names are the registry's labels: beyond its label limit they are grouped as 'other'.
 *
 * @example
 * const tracker = createTracker({ bus, totals: () => readMetricTotals(metrics.registry) });
 */
export async function readMetricTotals(registry: Pick<Registry, 'getSingleMetric'>): Promise<MetricTotals> {
  const [calls, durations, tokens, tools] = await Promise.all(
    [AGENT_CALLS, AGENT_DURATION, AGENT_TOKENS, TOOL_CALLS].map((name) => samples(registry, name)),
  );
  const totals = emptyMetricTotals();
  const agent = (name: string): AgentTotals => {
    totals.agents[name] ??= { calls: 0, errors: 0, avgLatencyMs: 0, inputTokens: 0, outputTokens: 0 };
    return totals.agents[name];
  };

  for (const { value, labels } of calls ?? []) {
    const figures = agent(String(labels.agent));
    figures.calls += value;
    totals.agentCalls += value;
    if (labels.outcome === 'error') {
      figures.errors += value;
      totals.agentErrors += value;
    }
  }
  const latencySeconds = new Map<string, number>();
  for (const { value, labels, metricName } of durations ?? []) {
    if (metricName === `${AGENT_DURATION}_sum`) latencySeconds.set(String(labels.agent), value);
  }
  for (const [name, figures] of Object.entries(totals.agents)) {
    const seconds = latencySeconds.get(name) ?? 0;
    figures.avgLatencyMs = figures.calls === 0 ? 0 : Math.round((seconds * 1_000) / figures.calls);
  }
  for (const { value, labels } of tokens ?? []) {
    const figures = agent(String(labels.agent));
    if (labels.direction === 'input') {
      figures.inputTokens += value;
      totals.tokens.input += value;
    } else if (labels.direction === 'output') {
      figures.outputTokens += value;
      totals.tokens.output += value;
    }
  }
  for (const { value, labels } of tools ?? []) {
    totals.toolCalls += value;
    if (labels.outcome === 'error') totals.toolErrors += value;
  }
  return totals;
}

async function samples(registry: Pick<Registry, 'getSingleMetric'>, name: string): Promise<Sample[] | undefined> {
  const metric = registry.getSingleMetric(name);
  return metric ? ((await metric.get()).values as Sample[]) : undefined;
}

import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../test/support/prometheus-text.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { attachHealthMonitor, HealthMonitor } from './health-monitor.js';
import { createMetrics, metricsRoutes } from './metrics.js';

/** Tool calls as the tool runtime reports them: the monitor and /metrics fed from one bus. */
function setup() {
  const clock = { now: Date.UTC(2026, 0, 1, 3, 0, 0) };
  const monitor = new HealthMonitor({ now: () => clock.now, recoveryDwellMs: 0 });
  const metrics = createMetrics({ instanceId: 'i', collectDefault: false, monitor });
  const bus = createEventBus();
  attachHealthMonitor(bus, monitor);
  metrics.attach(bus);
  const call = (tool: string, extra: Partial<Extract<BotEvent, { type: 'tool.call' }>> = {}) =>
    bus.emit({
      type: 'tool.call',
      traceId: 't',
      agent: 'manager',
      tool,
      input: '{}',
      output: 'ok',
      latencyMs: 120,
      identity: 'tenant',
      resultChars: 2,
      truncated: false,
      ...extra,
    });
  return { clock, monitor, metrics, call };
}

const missingScope = {
  error: "readDocument: the bot's Feishu app is missing the Feishu permission docx:document:readonly",
  errorCategory: 'NO_SCOPE' as const,
};

describe('tool calls in the health monitor', () => {
  it('shows each tool as its own row and degrades at once when a Feishu scope is missing', () => {
    const { monitor, call } = setup();
    call('currentTime');
    expect(monitor.status().status).toBe('healthy');
    call('readDocument', missingScope);
    const snapshot = monitor.snapshot();
    expect(snapshot.status).toBe('degraded');
    expect(snapshot.reasons.join('\n')).toContain('tool readDocument');
    expect(snapshot.reasons.join('\n')).toContain('docx:document:readonly');
    expect(snapshot.agents['tool:readDocument']).toMatchObject({ callCount: 1, errorCount: 1 });
    expect(snapshot.agents['tool:currentTime']).toMatchObject({ callCount: 1, errorCount: 0 });
    // Tool calls are not agent calls: the model's error rate is untouched.
    expect(snapshot.calls.total).toBe(0);
  });

  it('does not count a user’s own refusals (no access to one document, not authorized) against the tool', () => {
    const { monitor, call } = setup();
    for (let index = 0; index < 10; index++) {
      call('readDocument', { error: 'no access', errorCategory: 'NO_PERMISSION' });
      call('searchDocuments', { error: 'needs authorization', errorCategory: 'NEEDS_USER_AUTH', identity: 'user' });
    }
    expect(monitor.status().status).toBe('healthy');
    expect(monitor.snapshot().agents['tool:readDocument']).toMatchObject({ callCount: 10, errorCount: 0 });
  });

  it('degrades (never unhealthy) when a tool keeps failing, and recovers once the failures slide out', () => {
    const { monitor, clock, call } = setup();
    for (let index = 0; index < 6; index++) call('readSheet', { error: 'timed out', errorCategory: 'TIMEOUT' });
    const verdict = monitor.status();
    expect(verdict.status).toBe('degraded');
    expect(verdict.reasons.join('\n')).toMatch(/tool readSheet: 100% of 6 calls failed/);
    clock.now += 301_000;
    expect(monitor.status().status).toBe('healthy');
  });

  it('counts calls, errors by category and latency per tool in /metrics', async () => {
    const { metrics, call } = setup();
    call('readDocument');
    call('readDocument', missingScope);
    call('readSheet', { error: 'timed out', errorCategory: 'TIMEOUT', latencyMs: 2_000 });
    const text = await (await metricsRoutes({ registry: metrics.registry }).request('/metrics')).text();
    const families = parsePrometheusText(text);
    expect(sampleValue(families, 'feishu_bot_tool_calls_total', { tool: 'readDocument', outcome: 'success' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_tool_calls_total', { tool: 'readDocument', outcome: 'error' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_tool_errors_total', { tool: 'readDocument', category: 'NO_SCOPE' })).toBe(
      1,
    );
    expect(sampleValue(families, 'feishu_bot_tool_errors_total', { tool: 'readSheet', category: 'TIMEOUT' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_tool_call_duration_seconds_count', { tool: 'readSheet' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_tool_call_duration_seconds_sum', { tool: 'readSheet' })).toBe(2);
  });
});

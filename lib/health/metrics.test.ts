import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../test/support/prometheus-text.js';
import { createEventBus } from '../observe/event-bus.js';
import type { JobCounts } from '../store/store.js';
import { HealthMonitor } from './health-monitor.js';
import { createMetrics, LabelLimiter, metricsRoutes } from './metrics.js';

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  const response = await metricsRoutes({ registry: metrics.registry }).request('/metrics');
  expect(response.status).toBe(200);
  const text = await response.text();
  return { response, text, families: parsePrometheusText(text) };
}

describe('createMetrics + GET /metrics', () => {
  it('serves parsable Prometheus text with the process metrics and the instance label', async () => {
    const metrics = createMetrics({ instanceId: 'host-a:42' });
    const { response, families } = await scrape(metrics);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(families.get('feishu_bot_process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(families.get('feishu_bot_nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    for (const family of families.values()) {
      for (const sample of family.samples) expect(sample.labels.instance, sample.name).toBe('host-a:42');
    }
    // Zero series exist before the first incident, so alerts on rate() work from the start.
    expect(sampleValue(families, 'feishu_bot_errors_total', { category: 'RATE_LIMIT' })).toBe(0);
    expect(sampleValue(families, 'feishu_bot_process_errors_total', { kind: 'uncaughtException' })).toBe(0);
  });

  it('adds up spend by app, model, chat and person, with chats and people past the cap under other', async () => {
    const metrics = createMetrics({ instanceId: 'i', collectDefault: false, maxSpendSubjects: 2 });
    const bus = createEventBus();
    metrics.attach(bus);
    const usage = (chatId: string, userId: string, model: string, costUsd: number, priced = true) =>
      bus.emit({
        type: 'usage.recorded',
        traceId: 't',
        app: 'alpha',
        agent: 'manager',
        model,
        chatId,
        userId,
        inputTokens: 100,
        outputTokens: 10,
        costUsd,
        priced,
      });
    usage('oc_1', 'ou_1', 'gpt-4o', 0.25);
    usage('oc_2', 'ou_2', 'gpt-4o', 0.5);
    usage('oc_3', 'ou_3', 'gpt-4o', 1);
    usage('oc_1', 'ou_1', 'llama3', 0, false);
    const { families } = await scrape(metrics);
    expect(sampleValue(families, 'feishu_bot_cost_usd_total', { app: 'alpha', model: 'gpt-4o' })).toBe(1.75);
    expect(sampleValue(families, 'feishu_bot_chat_cost_usd_total', { chat: 'oc_1' })).toBe(0.25);
    expect(sampleValue(families, 'feishu_bot_chat_cost_usd_total', { chat: 'other' })).toBe(1.5);
    expect(sampleValue(families, 'feishu_bot_user_cost_usd_total', { user: 'other' })).toBe(1.5);
    expect(sampleValue(families, 'feishu_bot_unpriced_tokens_total', { model: 'llama3' })).toBe(110);
    expect(sampleValue(families, 'feishu_bot_model_tokens_total', { model: 'gpt-4o', direction: 'input' })).toBe(300);
  });

  it('counts bus events with bounded labels and no chat or user ids', async () => {
    const monitor = new HealthMonitor();
    const metrics = createMetrics({ instanceId: 'i', collectDefault: false, monitor, maxAgents: 4 });
    const bus = createEventBus();
    metrics.attach(bus);
    const chatId = 'oc_5ad11d72b830411d72b836c20';
    const userId = 'ou_7d8a6e6df7621556ce0d21922b676706ccs';
    bus.emit({
      type: 'event.received',
      traceId: 't1',
      source: 'webhook',
      eventType: 'im.message.receive_v1',
      eventId: 'e1',
    });
    bus.emit({ type: 'message.received', traceId: 't1', chatId, chatType: 'group', userId, text: 'hi' });
    bus.emit({ type: 'event.duplicate', traceId: 't1', source: 'webhook', key: 'message_id' });
    bus.emit({ type: 'job.queued', traceId: 't1', jobId: 'j1', lane: chatId, kind: 'answer' });
    bus.emit({ type: 'job.started', traceId: 't1', jobId: 'j1', lane: chatId, attempt: 1 });
    for (const [agent, outcome, latencyMs] of [
      ['manager', 'success', 1_500],
      ['manager', 'error', 30_000],
      ['search', 'success', 400],
      ['writer', 'success', 400],
      ['translator', 'success', 400],
      ['poet', 'success', 400],
    ] as const) {
      bus.emit({
        type: 'agent.call',
        traceId: 't1',
        agent,
        model: 'gpt-4o-mini',
        latencyMs,
        outcome,
        inputTokens: 100,
        outputTokens: outcome === 'success' ? 20 : 0,
        ...(outcome === 'error' ? { errorCategory: 'TIMEOUT' as const } : {}),
      });
    }
    bus.emit({ type: 'model.rate-limit', model: 'gpt-4o-mini', retryAfterMs: 1_000, remaining: 0 });
    // The primary fails and its breaker opens; the fallback answers: per-model detail, not user errors.
    for (const outcome of ['error', 'error', 'refused', 'success'] as const) {
      bus.emit({
        type: 'model.attempt',
        traceId: 't1',
        agent: 'manager',
        model: outcome === 'success' ? 'backup' : 'gpt-4o-mini',
        outcome,
        latencyMs: 10,
        ...(outcome === 'success' ? {} : { category: outcome === 'refused' ? 'CIRCUIT_OPEN' : 'RATE_LIMIT' }),
      });
    }
    bus.emit({ type: 'model.breaker', model: 'gpt-4o-mini', state: 'open', cooldownMs: 1_000, category: 'RATE_LIMIT' });
    bus.emit({ type: 'error', category: 'NETWORK', message: `send to ${chatId} failed`, where: 'reply' });
    bus.emit({ type: 'feishu.api', api: 'im.message.reply', outcome: 'ok', latencyMs: 120 });
    bus.emit({ type: 'feishu.api', api: 'im.message.reply', outcome: 'rate-limited', latencyMs: 80, code: 99991400 });
    bus.emit({ type: 'feishu.connection', state: 'connected', reconnects: 2 });
    bus.emit({ type: 'job.finished', traceId: 't1', jobId: 'j1', outcome: 'done', durationMs: 2_000 });
    bus.emit({ type: 'process.error', kind: 'unhandledRejection', message: 'x' });

    const { text, families } = await scrape(metrics);
    expect(text).not.toContain(chatId);
    expect(text).not.toContain(userId);
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels);
    expect(value('feishu_bot_events_received_total', { source: 'webhook', event_type: 'im.message.receive_v1' })).toBe(
      1,
    );
    expect(value('feishu_bot_dedupe_hits_total', { key: 'message_id' })).toBe(1);
    expect(value('feishu_bot_jobs_queued_total', { kind: 'answer' })).toBe(1);
    expect(value('feishu_bot_jobs_started_total')).toBe(1);
    expect(value('feishu_bot_jobs_finished_total', { outcome: 'done' })).toBe(1);
    expect(value('feishu_bot_jobs_finished_total', { outcome: 'dead' })).toBe(0);
    expect(value('feishu_bot_job_duration_seconds_sum', { outcome: 'done' })).toBe(2);
    expect(value('feishu_bot_agent_calls_total', { agent: 'manager', outcome: 'success' })).toBe(1);
    expect(value('feishu_bot_agent_calls_total', { agent: 'manager', outcome: 'error' })).toBe(1);
    // maxAgents 4: manager, search, writer, then everything else is 'other'.
    expect(value('feishu_bot_agent_calls_total', { agent: 'other', outcome: 'success' })).toBe(2);
    const agentLabels = new Set(
      families.get('feishu_bot_agent_calls_total')!.samples.map((sample) => sample.labels.agent),
    );
    expect(agentLabels).toEqual(new Set(['manager', 'search', 'writer', 'other']));
    expect(value('feishu_bot_agent_call_duration_seconds_count', { agent: 'manager' })).toBe(2);
    expect(value('feishu_bot_agent_call_duration_seconds_bucket', { agent: 'manager', le: '2' })).toBe(1);
    expect(value('feishu_bot_agent_call_duration_seconds_bucket', { agent: 'manager', le: '120' })).toBe(2);
    expect(value('feishu_bot_agent_tokens_total', { agent: 'manager', direction: 'input' })).toBe(200);
    expect(value('feishu_bot_errors_total', { category: 'TIMEOUT' })).toBe(1);
    expect(value('feishu_bot_errors_total', { category: 'NETWORK' })).toBe(1);
    expect(value('feishu_bot_rate_limits_total', { model: 'gpt-4o-mini' })).toBe(1);
    expect(
      value('feishu_bot_model_attempts_total', { model: 'gpt-4o-mini', outcome: 'error', category: 'RATE_LIMIT' }),
    ).toBe(2);
    expect(
      value('feishu_bot_model_attempts_total', { model: 'gpt-4o-mini', outcome: 'refused', category: 'CIRCUIT_OPEN' }),
    ).toBe(1);
    expect(value('feishu_bot_model_attempts_total', { model: 'backup', outcome: 'success', category: 'none' })).toBe(1);
    expect(value('feishu_bot_model_breaker_state', { model: 'gpt-4o-mini', state: 'open' })).toBe(1);
    expect(value('feishu_bot_model_breaker_state', { model: 'gpt-4o-mini', state: 'closed' })).toBe(0);
    expect(value('feishu_bot_errors_total', { category: 'CIRCUIT_OPEN' })).toBe(0);
    expect(value('feishu_bot_feishu_api_calls_total', { api: 'im.message.reply', outcome: 'ok' })).toBe(1);
    expect(value('feishu_bot_feishu_api_calls_total', { api: 'im.message.reply', outcome: 'rate-limited' })).toBe(1);
    expect(value('feishu_bot_feishu_connection_state', { state: 'connected' })).toBe(1);
    expect(value('feishu_bot_feishu_connection_state', { state: 'off' })).toBe(0);
    expect(value('feishu_bot_feishu_reconnects')).toBe(2);
    expect(value('feishu_bot_process_errors_total', { kind: 'unhandledRejection' })).toBe(1);
    expect(value('feishu_bot_health_status', { status: 'healthy' })).toBe(1);
    expect(value('feishu_bot_health_status', { status: 'unhealthy' })).toBe(0);
    for (const family of families.values()) {
      for (const sample of family.samples) {
        for (const labelValue of Object.values(sample.labels)) expect(labelValue).not.toMatch(/^o[cu]_/);
      }
    }
  });

  it('reads the inbox depth from the store at scrape time and survives a store outage', async () => {
    let counts: JobCounts = { pending: 3, leased: 2, done: 40, dead: 1 };
    let storeDown = false;
    const metrics = createMetrics({
      instanceId: 'i',
      collectDefault: false,
      scrapeTimeoutMs: 50,
      countJobs: async () => {
        if (storeDown) return new Promise<JobCounts>(() => {});
        return counts;
      },
    });
    let { families } = await scrape(metrics);
    expect(sampleValue(families, 'feishu_bot_inbox_depth')).toBe(5);
    expect(sampleValue(families, 'feishu_bot_inbox_jobs', { status: 'dead' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_store_up')).toBe(1);

    counts = { pending: 0, leased: 1, done: 45, dead: 1 };
    ({ families } = await scrape(metrics));
    expect(sampleValue(families, 'feishu_bot_inbox_depth')).toBe(1);

    storeDown = true;
    ({ families } = await scrape(metrics));
    expect(sampleValue(families, 'feishu_bot_store_up')).toBe(0);
  });

  it('reports the monitor status at scrape time', async () => {
    const monitor = new HealthMonitor();
    const metrics = createMetrics({ instanceId: 'i', collectDefault: false, monitor });
    for (let index = 0; index < 5; index++) monitor.trackAgentCall('manager', 10, 'error');
    const { families } = await scrape(metrics);
    expect(sampleValue(families, 'feishu_bot_health_status', { status: 'unhealthy' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_health_status', { status: 'healthy' })).toBe(0);
  });

  it('keeps two bots in one process apart (no global registry)', async () => {
    const first = createMetrics({ instanceId: 'a', collectDefault: true });
    const second = createMetrics({ instanceId: 'b', collectDefault: true });
    first.observe({ type: 'job.busy', traceId: 't', jobId: 'j', backlog: 500 });
    expect(sampleValue((await scrape(first)).families, 'feishu_bot_jobs_rejected_busy_total')).toBe(1);
    expect(sampleValue((await scrape(second)).families, 'feishu_bot_jobs_rejected_busy_total')).toBe(0);
  });
});

describe('LabelLimiter', () => {
  it('passes max - 1 distinct values, then answers other; long and empty values never pass', () => {
    const limiter = new LabelLimiter(3);
    expect(['a', 'b', 'c', 'a', 'b', 'd'].map((value) => limiter.value(value))).toEqual([
      'a',
      'b',
      'other',
      'a',
      'b',
      'other',
    ]);
    expect(new LabelLimiter(10).value('x'.repeat(65))).toBe('other');
    expect(new LabelLimiter(10).value('')).toBe('unknown');
  });
});

describe('parsePrometheusText (the test parser itself can fail)', () => {
  it.each([
    ['a sample without a family', 'foo 1\n'],
    ['a bad value', '# TYPE foo counter\nfoo one\n'],
    ['a bad escape', '# TYPE foo counter\nfoo{a="\\x"} 1\n'],
    ['a duplicate series', '# TYPE foo gauge\nfoo{a="1"} 1\nfoo{a="1"} 2\n'],
    ['a missing newline at the end', '# TYPE foo gauge\nfoo 1'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\n'],
    ['+Inf bucket and _count disagreeing', '# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 4\n'],
  ])('rejects %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });

  it('reads escaped label values', () => {
    const families = parsePrometheusText('# HELP g a gauge\n# TYPE g gauge\ng{path="a\\"b\\\\c\\nd"} 1.5e3\n');
    expect(families.get('g')?.samples[0]).toEqual({ name: 'g', labels: { path: 'a"b\\c\nd' }, value: 1500 });
  });
});

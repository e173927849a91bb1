import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_TABLE } from '../cost/price-table.js';
import { createMetrics } from '../health/metrics.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus, type EventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { readMetricTotals } from './metric-totals.js';

const estimateCost = DEFAULT_PRICE_TABLE.estimate;

import { createTracker, type Tracker } from './tracker.js';

let clock = 1_000_000;
const now = () => clock;

function newBus(): EventBus {
  return createEventBus({ now });
}

/** The events of one answered message: receipt, job, agent with a tool and a delegation, reply. */
function answeredMessage(traceId: string, { chatId = 'oc_chat', text = 'hello bot' } = {}): BotEvent[] {
  return [
    {
      type: 'event.received',
      traceId,
      source: 'webhook',
      eventType: 'im.message.receive_v1',
      eventId: `ev_${traceId}`,
    },
    { type: 'job.queued', traceId, jobId: traceId, lane: chatId, kind: 'answer' },
    { type: 'job.started', traceId, jobId: traceId, lane: chatId, attempt: 1 },
    { type: 'message.received', traceId, chatId, chatType: 'group', userId: 'ou_user', text },
    { type: 'agent.delegation', traceId, from: 'manager', to: 'researcher', task: 'look it up' },
    {
      type: 'tool.call',
      traceId,
      agent: 'researcher',
      tool: 'search',
      input: '{"q":"x"}',
      output: 'found',
      latencyMs: 12,
    },
    {
      type: 'agent.call',
      traceId,
      agent: 'manager',
      model: 'gpt-4o-mini',
      latencyMs: 300,
      outcome: 'success',
      inputTokens: 1000,
      outputTokens: 500,
    },
    { type: 'reply.started', traceId, mode: 'card', cardId: 'card_1' },
    {
      type: 'reply.finished',
      traceId,
      mode: 'card',
      length: 42,
      cards: 1,
      text: 'It is 12:00 in Berlin, so lunch time.',
    },
    { type: 'job.finished', traceId, jobId: traceId, outcome: 'done', durationMs: 400 },
  ];
}

function emitAll(bus: EventBus, events: BotEvent[]): void {
  for (const event of events) {
    clock += 10;
    bus.emit(event);
  }
}

describe('createTracker', () => {
  const opened: { tracker?: Tracker; store?: Store }[] = [];
  afterEach(async () => {
    for (const { tracker, store } of opened.splice(0)) {
      await tracker?.close();
      await store?.close();
    }
  });

  it('keeps the ring within its bound under 100 000 events and pages by sequence', async () => {
    const bus = newBus();
    const tracker = createTracker({ bus, ringSize: 1_000, maxTraces: 50 });
    opened.push({ tracker });
    for (let index = 0; index < 100_000; index++) {
      bus.emit({ type: 'message.ignored', traceId: `t${index % 5_000}`, reason: `r${index}` });
    }
    const stats = await tracker.stats();
    expect(stats.events.total).toBe(100_000);
    expect(stats.events.inRing).toBe(1_000);
    expect(stats.traces.inMemory).toBe(50);

    const newest = tracker.events({ limit: 1_000 });
    expect(newest.events).toHaveLength(1_000);
    expect(newest.latestSeq).toBe(100_000);
    expect(newest.oldestSeq).toBe(99_001);
    expect(newest.events[0]?.seq).toBe(100_000);
    expect(newest.events.at(-1)?.seq).toBe(99_001);
    expect(newest.hasMore).toBe(false);

    const page = tracker.events({ before: 99_500, limit: 10 });
    expect(page.events.map((event) => event.seq)).toEqual([
      99_499, 99_498, 99_497, 99_496, 99_495, 99_494, 99_493, 99_492, 99_491, 99_490,
    ]);
    expect(page.hasMore).toBe(true);

    const catchUp = tracker.events({ after: 99_995 });
    expect(catchUp.events.map((event) => event.seq)).toEqual([99_996, 99_997, 99_998, 99_999, 100_000]);
    // Asking for events already overwritten starts at the oldest kept one, never returns stale slots.
    expect(tracker.events({ after: 5, limit: 1 }).events[0]?.seq).toBe(99_001);
  });

  it('groups events into one trace per message with agents, tools, tokens and cost', async () => {
    const bus = newBus();
    const tracker = createTracker({ bus });
    opened.push({ tracker });
    const start = clock;
    emitAll(bus, answeredMessage('job-1'));

    const [summary] = tracker.traces();
    expect(summary).toMatchObject({
      id: 'job-1',
      status: 'done',
      source: 'webhook',
      chatId: 'oc_chat',
      userId: 'ou_user',
      textPreview: 'hello bot',
      agentCalls: 1,
      toolCalls: 1,
      inputTokens: 1000,
      outputTokens: 500,
      eventCount: 10,
      replyMode: 'card',
      firstAt: start + 10,
      durationMs: 90,
    });
    expect(summary?.agents.sort()).toEqual(['manager', 'researcher']);
    expect(summary?.tools).toEqual(['search']);
    expect(summary?.estimatedCostUsd).toBeCloseTo(estimateCost('gpt-4o-mini', 1000, 500).usd, 10);
    expect(summary?.unpricedModels).toEqual([]);

    const trace = await tracker.trace('job-1');
    expect(trace?.events.map((event) => event.type)).toEqual(answeredMessage('job-1').map((event) => event.type));
    expect(await tracker.trace('nope')).toBeNull();
  });

  it('derives failed and dead status and keeps the error category', () => {
    const bus = newBus();
    const tracker = createTracker({ bus });
    opened.push({ tracker });
    emitAll(bus, [
      { type: 'job.started', traceId: 'retrying', jobId: 'retrying', lane: 'l', attempt: 1 },
      {
        type: 'agent.call',
        traceId: 'retrying',
        agent: 'manager',
        model: 'local-llama',
        latencyMs: 50,
        outcome: 'error',
        inputTokens: 10,
        outputTokens: 0,
        errorCategory: 'RATE_LIMIT',
      },
      { type: 'job.finished', traceId: 'retrying', jobId: 'retrying', outcome: 'retry', durationMs: 60, error: 'boom' },
      { type: 'job.started', traceId: 'gone', jobId: 'gone', lane: 'l', attempt: 3 },
      { type: 'error', traceId: 'gone', category: 'TIMEOUT', message: 'model timed out', where: 'agent' },
      { type: 'job.finished', traceId: 'gone', jobId: 'gone', outcome: 'dead', durationMs: 60 },
      { type: 'job.started', traceId: 'noticed', jobId: 'noticed', lane: 'l', attempt: 1 },
      {
        type: 'reply.finished',
        traceId: 'noticed',
        mode: 'text',
        length: 3,
        cards: 0,
        text: 'Hm.',
        notice: 'model unavailable',
      },
      { type: 'job.finished', traceId: 'noticed', jobId: 'noticed', outcome: 'done', durationMs: 60 },
      { type: 'job.started', traceId: 'open', jobId: 'open', lane: 'l', attempt: 1 },
    ]);
    const byId = Object.fromEntries(tracker.traces().map((trace) => [trace.id, trace]));
    expect(byId.retrying).toMatchObject({ status: 'failed', errorCategory: 'RATE_LIMIT', error: 'boom' });
    expect(byId.retrying?.unpricedModels).toEqual(['local-llama']);
    expect(byId.retrying?.estimatedCostUsd).toBe(0);
    expect(byId.gone).toMatchObject({ status: 'dead', errorCategory: 'TIMEOUT', attempts: 3 });
    expect(byId.noticed).toMatchObject({ status: 'failed', notice: 'model unavailable' });
    expect(byId.open?.status).toBe('running');
  });

  it('filters events and traces by type, agent, tool, chat, status and free text', () => {
    const bus = newBus();
    const tracker = createTracker({ bus });
    opened.push({ tracker });
    emitAll(bus, answeredMessage('a', { chatId: 'oc_a', text: 'weather in Paris' }));
    emitAll(bus, answeredMessage('b', { chatId: 'oc_b', text: 'stock price' }).slice(0, 4));
    bus.emit({ type: 'feishu.api', api: 'im.message.reply', outcome: 'ok', latencyMs: 20 });

    const ids = (filter: Parameters<Tracker['traces']>[0]) => tracker.traces(filter).map((trace) => trace.id);
    expect(ids({ status: 'done' })).toEqual(['a']);
    expect(ids({ status: 'running' })).toEqual(['b']);
    expect(ids({ chat: 'oc_b' })).toEqual(['b']);
    expect(ids({ tool: 'search' })).toEqual(['a']);
    expect(ids({ agent: 'researcher' })).toEqual(['a']);
    expect(ids({ text: 'PARIS' })).toEqual(['a']);
    expect(ids({ types: ['reply.finished'] })).toEqual(['a']);
    expect(ids({}).sort()).toEqual(['a', 'b']);

    const types = (query: Parameters<Tracker['events']>[0]) => tracker.events(query).events.map((event) => event.type);
    expect(types({ types: ['tool.call'] })).toEqual(['tool.call']);
    expect(types({ tool: 'search' })).toEqual(['tool.call']);
    expect(types({ agent: 'researcher' }).sort()).toEqual(['agent.delegation', 'tool.call']);
    expect(types({ chat: 'oc_b' })).toHaveLength(4);
    expect(types({ status: 'running' })).toHaveLength(4);
    expect(types({ text: 'im.message.reply' })).toEqual(['feishu.api']);
    expect(tracker.events({ traceId: 'a' }).events).toHaveLength(10);
  });

  it('counts stats: totals, tokens, cost and error rates by category', async () => {
    const bus = newBus();
    // Call, token and tool totals come from the Prometheus registry the service already feeds.
    const metrics = createMetrics({ instanceId: 'tracker-test', collectDefault: false });
    metrics.attach(bus);
    const tracker = createTracker({ bus, totals: () => readMetricTotals(metrics.registry) });
    opened.push({ tracker });
    emitAll(bus, answeredMessage('ok'));
    const failing = (category: 'RATE_LIMIT' | 'TIMEOUT'): BotEvent => ({
      type: 'agent.call',
      traceId: 'bad',
      agent: 'manager',
      model: 'gpt-4o-mini',
      latencyMs: 100,
      outcome: 'error',
      inputTokens: 0,
      outputTokens: 0,
      errorCategory: category,
    });
    emitAll(bus, [
      failing('RATE_LIMIT'),
      failing('RATE_LIMIT'),
      failing('TIMEOUT'),
      { type: 'error', traceId: 'bad', category: 'NETWORK', message: 'reset', where: 'feishu' },
    ]);
    const stats = await tracker.stats();
    expect(stats.agentCalls).toBe(4);
    expect(stats.toolCalls).toBe(1);
    expect(stats.messages).toBe(1);
    expect(stats.tokens).toEqual({ input: 1000, output: 500 });
    expect(stats.estimatedCostUsd).toBeCloseTo(estimateCost('gpt-4o-mini', 1000, 500).usd, 10);
    expect(stats.agentErrors.total).toBe(3);
    expect(stats.agentErrors.rate).toBe(0.75);
    expect(stats.agentErrors.byCategory.RATE_LIMIT).toEqual({ count: 2, rate: 0.5 });
    expect(stats.agentErrors.byCategory.TIMEOUT).toEqual({ count: 1, rate: 0.25 });
    expect(stats.agentErrors.byCategory.AUTH).toEqual({ count: 0, rate: 0 });
    expect(stats.errors.byCategory.NETWORK).toBe(1);
    expect(stats.agents.manager).toMatchObject({ calls: 4, errors: 3, avgLatencyMs: 150 });
    expect(stats.traces.byStatus).toEqual({ running: 1, done: 1, failed: 0, dead: 0 });
  });

  it('caps long text and scrubs secrets from every field', async () => {
    const bus = newBus();
    const tracker = createTracker({ bus, maxTextChars: 50, secrets: ['super-secret-value'] });
    opened.push({ tracker });
    bus.emit({
      type: 'tool.call',
      traceId: 't',
      agent: 'manager',
      tool: 'http',
      input: `Authorization: Bearer abcdefghijklmnop and super-secret-value`,
      output: 'x'.repeat(10_000),
      latencyMs: 1,
    });
    bus.emit({
      type: 'error',
      traceId: 't',
      category: 'AUTH',
      message: 'bad key sk-abcdefghijklmnopqrstuvwxyz',
      where: 'x',
    });
    const [errorEvent, toolEvent] = tracker.events().events;
    if (toolEvent?.type !== 'tool.call' || errorEvent?.type !== 'error') throw new Error('unexpected events');
    expect(toolEvent.input).not.toContain('abcdefghijklmnop');
    expect(toolEvent.input).not.toContain('super-secret-value');
    expect(toolEvent.input).toContain('[Redacted]');
    expect(toolEvent.output.length).toBeLessThan(100);
    expect(toolEvent.output).toContain('[+9950 chars]');
    expect(errorEvent.message).toBe('bad key [Redacted]');
  });

  it('feeds live subscribers and drops one that falls behind', async () => {
    const bus = newBus();
    const tracker = createTracker({ bus, maxSubscribers: 2 });
    opened.push({ tracker });
    const fast = tracker.subscribe();
    const slow = tracker.subscribe({ maxQueue: 3 });
    expect(tracker.subscribe()).toBeNull();
    if (!fast || !slow) throw new Error('subscribe failed');

    const waiting = fast.take(10_000);
    bus.emit({ type: 'message.ignored', traceId: 'x', reason: 'first' });
    expect((await waiting)?.map((event) => event.seq)).toEqual([1]);
    expect(await fast.take(1)).toEqual([]);

    for (let index = 0; index < 5; index++) bus.emit({ type: 'message.ignored', traceId: 'x', reason: `${index}` });
    expect(slow.dropped).toBe(true);
    expect(await slow.take(1)).toBeNull();
    expect((await tracker.stats()).subscribers).toBe(1);
    expect((await fast.take(1))?.length).toBe(5);

    const pending = fast.take(10_000);
    fast.close();
    expect(await pending).toBeNull();
    expect((await tracker.stats()).subscribers).toBe(0);
  });

  it('persists finished traces and loads them after a restart (real SQLite store)', async () => {
    const store = await openStore('sqlite::memory:');
    const firstBus = newBus();
    const first = createTracker({ bus: firstBus, store, traceRetention: 2 });
    opened.push({ store });
    emitAll(firstBus, answeredMessage('old'));
    emitAll(firstBus, answeredMessage('middle'));
    emitAll(firstBus, answeredMessage('new'));
    emitAll(firstBus, answeredMessage('unfinished').slice(0, 3));
    await first.close();

    const secondBus = newBus();
    const second = createTracker({ bus: secondBus, store, traceRetention: 2 });
    opened.push({ tracker: second });
    expect(await second.load()).toBe(2);
    expect(
      second
        .traces()
        .map((trace) => trace.id)
        .sort(),
    ).toEqual(['middle', 'new']);
    const restored = await second.trace('new');
    expect(restored).toMatchObject({ status: 'done', agentCalls: 1, tools: ['search'] });
    expect(restored?.events).toHaveLength(10);
    // Numbering continues after the restored timelines, so sequence numbers never collide.
    secondBus.emit({ type: 'message.ignored', traceId: 'later', reason: 'x' });
    const maxRestored = Math.max(...(restored?.events ?? []).map((event) => event.seq));
    expect(second.events().events[0]?.seq).toBe(maxRestored + 1);
  });

  it('reads a trace evicted from memory back from the store', async () => {
    const store = await openStore('sqlite::memory:');
    const bus = newBus();
    const tracker = createTracker({ bus, store, maxTraces: 1, traceRetention: 10 });
    opened.push({ tracker, store });
    emitAll(bus, answeredMessage('first'));
    await tracker.flush();
    emitAll(bus, answeredMessage('second'));
    expect(tracker.traces().map((trace) => trace.id)).toEqual(['second']);
    expect((await tracker.trace('first'))?.status).toBe('done');
  });
});

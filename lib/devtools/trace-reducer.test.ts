import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_TABLE } from '../cost/price-table.js';
import type { BotEvent } from '../observe/bot-event.js';

const estimateCost = DEFAULT_PRICE_TABLE.estimate;

import { copySummary, emptySummary, reduceTrace, type TraceSummary } from './trace-reducer.js';
import type { TrackedEvent } from './tracked-event.js';

const ID = 'message:om_1';

/** Folds events (10 ms apart) into a fresh summary. */
function reduce(events: BotEvent[]): TraceSummary {
  const summary = emptySummary(ID, 1_000);
  events.forEach((event, index) => {
    reduceTrace(summary, { ...event, at: 1_000 + index * 10, seq: index + 1 } as TrackedEvent);
  });
  return summary;
}

const started = (attempt = 1): BotEvent => ({ type: 'job.started', traceId: ID, jobId: ID, lane: 'l', attempt });
const finished = (outcome: 'done' | 'retry' | 'dead' | 'released', error?: string): BotEvent => ({
  type: 'job.finished',
  traceId: ID,
  jobId: ID,
  outcome,
  durationMs: 5,
  ...(error ? { error } : {}),
});
const noticed: BotEvent = {
  type: 'reply.finished',
  traceId: ID,
  mode: 'card',
  length: 1,
  cards: 1,
  text: '…',
  notice: 'busy',
};

describe('reduceTrace', () => {
  it.each<[string, BotEvent[], TraceSummary['status']]>([
    ['no job event yet', [], 'running'],
    ['a started job', [started()], 'running'],
    ['a finished job', [started(), finished('done')], 'done'],
    ['an answer closed with a failure notice', [started(), noticed, finished('done')], 'failed'],
    ['an attempt waiting for a retry', [started(), finished('retry')], 'failed'],
    ['the retry running', [started(), finished('retry'), started(2)], 'running'],
    ['a dead-lettered job', [started(3), finished('dead')], 'dead'],
    ['a job handed back at shutdown', [started(), finished('released')], 'running'],
  ])('status for %s', (_name, events, status) => {
    expect(reduce(events).status).toBe(status);
  });

  it('keeps the times, the highest attempt and the last job error', () => {
    const summary = reduce([started(1), finished('retry', 'first'), started(2), finished('retry', 'second')]);
    expect(summary).toMatchObject({ firstAt: 1_000, lastAt: 1_030, durationMs: 30, attempts: 2, error: 'second' });
    expect(summary.eventCount).toBe(4);
  });

  it('collects source, chat, user and a flattened, capped preview of the text', () => {
    const summary = reduce([
      { type: 'event.received', traceId: ID, source: 'websocket', eventType: 'im.message.receive_v1', eventId: 'e' },
      {
        type: 'message.received',
        traceId: ID,
        chatId: 'oc_1',
        chatType: 'group',
        userId: 'ou_1',
        text: `  hello\n\n  there ${'x'.repeat(300)}`,
      },
      { type: 'message.ignored', traceId: ID, reason: 'not mentioned' },
    ]);
    expect(summary).toMatchObject({ source: 'websocket', chatId: 'oc_1', chatType: 'group', userId: 'ou_1' });
    expect(summary.textPreview.startsWith('hello there xxx')).toBe(true);
    expect(summary.textPreview).toHaveLength(201);
    expect(summary.textPreview.endsWith('…')).toBe(true);
    expect(summary.ignoredReason).toBe('not mentioned');
  });

  it('adds agents, models, tools, tokens and the estimated cost; unknown models cost nothing and are named', () => {
    const summary = reduce([
      { type: 'agent.delegation', traceId: ID, from: 'manager', to: 'researcher', task: 't' },
      { type: 'tool.call', traceId: ID, agent: 'researcher', tool: 'search', input: '', output: '', latencyMs: 1 },
      {
        type: 'tool.call',
        traceId: ID,
        agent: 'researcher',
        tool: 'search',
        input: '',
        output: '',
        latencyMs: 1,
        error: 'boom',
      },
      ...(['gpt-4o-mini', 'local-llama'] as const).map(
        (model): BotEvent => ({
          type: 'agent.call',
          traceId: ID,
          agent: 'manager',
          model,
          latencyMs: 10,
          outcome: 'success',
          inputTokens: 1_000,
          outputTokens: 100,
        }),
      ),
    ]);
    expect(summary.agents).toEqual(['manager', 'researcher']);
    expect(summary.tools).toEqual(['search']);
    expect(summary.models).toEqual(['gpt-4o-mini', 'local-llama']);
    expect(summary).toMatchObject({
      agentCalls: 2,
      toolCalls: 2,
      inputTokens: 2_000,
      outputTokens: 200,
      errorCount: 1,
    });
    expect(summary.estimatedCostUsd).toBeCloseTo(estimateCost('gpt-4o-mini', 1_000, 100).usd, 10);
    expect(summary.unpricedModels).toEqual(['local-llama']);
  });

  it('records error categories: a failed call without one counts as OTHER, an error event names its own', () => {
    const failedCall: BotEvent = {
      type: 'agent.call',
      traceId: ID,
      agent: 'manager',
      model: 'gpt-4o',
      latencyMs: 1,
      outcome: 'error',
      inputTokens: 0,
      outputTokens: 0,
    };
    expect(reduce([failedCall])).toMatchObject({ errorCount: 1, errorCategory: 'OTHER' });
    const summary = reduce([
      failedCall,
      { type: 'error', traceId: ID, category: 'TIMEOUT', message: 'no first token', where: 'agent' },
    ]);
    expect(summary).toMatchObject({ errorCount: 2, errorCategory: 'TIMEOUT', error: 'no first token' });
  });

  it('keeps the reply mode and stops adding names at 32', () => {
    const tools = Array.from(
      { length: 40 },
      (_, index): BotEvent => ({
        type: 'tool.call',
        traceId: ID,
        agent: 'manager',
        tool: `tool-${index}`,
        input: '',
        output: '',
        latencyMs: 1,
      }),
    );
    const summary = reduce([{ type: 'reply.started', traceId: ID, mode: 'text' }, ...tools]);
    expect(summary.replyMode).toBe('text');
    expect(summary.tools).toHaveLength(32);
    expect(summary.toolCalls).toBe(40);
  });
});

describe('copySummary', () => {
  it('copies the name lists, so changing the copy leaves the live summary alone', () => {
    const live = reduce([{ type: 'agent.delegation', traceId: ID, from: 'manager', to: 'researcher', task: 't' }]);
    const copy = copySummary(live);
    copy.agents.push('intruder');
    expect(live.agents).toEqual(['manager', 'researcher']);
  });
});

describe('emptySummary', () => {
  it('names the app a trace belongs to, from its job id', () => {
    expect(emptySummary('app:alpha:message:om_1', 0).app).toBe('alpha');
    expect(emptySummary('message:om_1', 0).app).toBe('default');
  });
});

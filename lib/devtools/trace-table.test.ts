import { describe, expect, it } from 'vitest';
import type { BotEvent } from '../observe/bot-event.js';
import { createTraceTable, type TraceTable } from './trace-table.js';
import type { TrackedEvent } from './tracked-event.js';

let seq = 0;
function record(table: TraceTable, event: BotEvent & { traceId: string }, at = 1_000 + seq): void {
  table.record(event.traceId, { ...event, at, seq: ++seq } as TrackedEvent);
}

const ignored = (traceId: string, reason = 'x'): BotEvent & { traceId: string } => ({
  type: 'message.ignored',
  traceId,
  reason,
});

function answered(table: TraceTable, traceId: string, chatId: string, text: string, at: number): void {
  record(table, { type: 'message.received', traceId, chatId, chatType: 'group', userId: 'ou_1', text }, at);
  record(
    table,
    { type: 'tool.call', traceId, agent: 'researcher', tool: 'search', input: '', output: '', latencyMs: 1 },
    at + 1,
  );
  record(table, { type: 'job.finished', traceId, jobId: traceId, outcome: 'done', durationMs: 2 }, at + 2);
}

describe('createTraceTable', () => {
  it('evicts the least recently touched trace beyond its bound', () => {
    const table = createTraceTable({ maxTraces: 2 });
    record(table, ignored('a'));
    record(table, ignored('b'));
    record(table, ignored('a')); // touching a makes b the oldest
    record(table, ignored('c'));
    expect(table.size).toBe(2);
    expect(table.summaryOf('b')).toBeUndefined();
    expect(table.summaryOf('a')?.eventCount).toBe(2);
    expect(table.summaryOf('c')).toBeDefined();
  });

  it('keeps at most maxEventsPerTrace events per timeline and counts the rest', () => {
    const table = createTraceTable({ maxEventsPerTrace: 3 });
    for (let index = 0; index < 5; index++) record(table, ignored('t', `r${index}`));
    const trace = table.trace('t');
    expect(trace?.events.map((event) => (event.type === 'message.ignored' ? event.reason : ''))).toEqual([
      'r0',
      'r1',
      'r2',
    ]);
    expect(trace).toMatchObject({ eventCount: 5, droppedEvents: 2 });
  });

  it('keeps what the bot sent, every rolled-over card and the whole answer, past the timeline cap', () => {
    const table = createTraceTable({ maxEventsPerTrace: 2 });
    const card = (index: number, text: string): BotEvent & { traceId: string } => ({
      type: 'reply.card',
      traceId: 'long',
      cardId: `card_${index}`,
      index,
      text,
    });
    record(table, { type: 'reply.started', traceId: 'long', mode: 'card', cardId: 'card_0' });
    for (let sequence = 1; sequence <= 5; sequence++) {
      record(table, { type: 'reply.update', traceId: 'long', cardId: 'card_0', sequence, length: sequence });
    }
    record(table, card(1, 'second part'));
    record(table, card(0, 'first part'));
    record(table, card(0, 'first part, re-planned'));
    const answer = 'first part, re-planned\n\nsecond part\n\nthe end';
    record(table, {
      type: 'reply.finished',
      traceId: 'long',
      mode: 'card',
      length: answer.length,
      cards: 3,
      text: answer,
    });
    const trace = table.trace('long');
    expect(trace?.events).toHaveLength(2);
    expect(trace?.sent).toEqual({
      text: answer,
      cards: [
        { index: 0, cardId: 'card_0', text: 'first part, re-planned' },
        { index: 1, cardId: 'card_1', text: 'second part' },
      ],
    });
    expect(trace?.replyPreview).toBe('first part, re-planned second part the end');
    // A copy: changing it does not change the table.
    trace?.sent.cards.pop();
    expect(table.trace('long')?.sent.cards).toHaveLength(2);
    expect(table.list({ text: 'the end' }).map((summary) => summary.id)).toEqual(['long']);
  });

  it('lists copies, most recent activity first, filtered by status, chat, agent, tool, type and text', () => {
    const table = createTraceTable();
    answered(table, 'paris', 'oc_a', 'weather in Paris', 5_000);
    answered(table, 'stocks', 'oc_b', 'stock price', 6_000);
    record(table, ignored('quiet'), 7_000);
    const ids = (filter: Parameters<TraceTable['list']>[0]) => table.list(filter).map((summary) => summary.id);
    expect(ids({})).toEqual(['quiet', 'stocks', 'paris']);
    expect(ids({ status: 'done' })).toEqual(['stocks', 'paris']);
    expect(ids({ chat: 'oc_a' })).toEqual(['paris']);
    expect(ids({ agent: 'researcher', text: 'STOCK' })).toEqual(['stocks']);
    expect(ids({ tool: 'search', limit: 1 })).toEqual(['stocks']);
    expect(ids({ types: ['message.ignored'] })).toEqual(['quiet']);
    expect(ids({ types: [] })).toHaveLength(3);

    const [first] = table.list({ chat: 'oc_a' });
    first?.tools.push('changed');
    expect(table.summaryOf('paris')?.tools).toEqual(['search']);
  });

  it('restores persisted traces unless one with the same id is held, within the bound', () => {
    const table = createTraceTable({ maxTraces: 2, maxEventsPerTrace: 1 });
    record(table, ignored('live'));
    const persisted = (id: string) => {
      const source = createTraceTable();
      record(source, ignored(id, 'one'));
      record(source, { type: 'job.finished', traceId: id, jobId: id, outcome: 'dead', durationMs: 1 });
      const trace = source.trace(id);
      if (!trace) throw new Error('no trace');
      return trace;
    };
    expect(table.restore({ ...persisted('live'), status: 'dead' })).toBe(false);
    expect(table.summaryOf('live')?.status).toBe('running');
    expect(table.restore(persisted('old'))).toBe(true);
    expect(table.trace('old')?.events).toHaveLength(1);
    expect(table.countByStatus()).toEqual({ running: 1, done: 0, failed: 0, dead: 1 });
    expect(table.list({ types: ['job.finished'] }).map((summary) => summary.id)).toEqual(['old']);
    expect(table.restore(persisted('newer'))).toBe(true);
    expect(table.size).toBe(2);
    expect(table.summaryOf('live')).toBeUndefined();
  });
});

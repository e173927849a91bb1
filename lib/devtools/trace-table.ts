import { DEFAULT_PRICE_TABLE, type PriceTable } from '../cost/price-table.js';
import { pageLimit } from './page-limit.js';
import {
  copySummary,
  emptySummary,
  recordSent,
  reduceTrace,
  type SentReply,
  type Trace,
  type TraceStatus,
  type TraceSummary,
} from './trace-reducer.js';
import type { TrackedEvent } from './tracked-event.js';

export interface TraceFilter {
  status?: TraceStatus;
  agent?: string;
  tool?: string;
  chat?: string;
  /** Traces that contain an event of any of these types. */
  types?: readonly string[];
  /** Answers rated so (👍 up, 👎 down), or rated at all (`any`). */
  feedback?: 'up' | 'down' | 'any';
  /** Case-insensitive substring of id, text, chat, user, error, agents, tools. */
  text?: string;
  limit?: number;
}

export interface TraceTableOptions {
  /** Traces (running and recent) kept; the least recently touched goes first. */
  maxTraces?: number;
  /** Events kept per trace timeline; further events are counted, not kept. */
  maxEventsPerTrace?: number;
  /** Prices the traces' estimated cost (MODEL_PRICES_FILE over the built-in table). */
  prices?: PriceTable;
}

export interface TraceTable {
  /** Folds an event into its trace (made on its first event); returns the live summary. */
  record(traceId: string, event: TrackedEvent): TraceSummary;
  /** The live summary (not a copy: read it, don't keep it). */
  summaryOf(id: string): TraceSummary | undefined;
  /** A copy of one trace with its timeline. */
  trace(id: string): Trace | undefined;
  /** Copies of the matching summaries, most recent activity first. */
  list(filter?: TraceFilter): TraceSummary[];
  /** Puts back a trace read from the store, unless one with its id is held; false when skipped. */
  restore(trace: Trace): boolean;
  countByStatus(): Record<TraceStatus, number>;
  readonly size: number;
}

interface TraceState {
  summary: TraceSummary;
  events: TrackedEvent[];
  eventTypes: Set<string>;
  sent: SentReply;
}

/**
 * The recent traces in memory: one summary and a capped timeline per inbound message, least
 * recently touched evicted first, so memory stays within `maxTraces × maxEventsPerTrace` events.
 *
 * @example
 * const traces = createTraceTable({ maxTraces: 300 });
 * traces.record(event.traceId, event);
 * traces.list({ status: 'failed', limit: 20 });
 */
export function createTraceTable({
  maxTraces = 300,
  maxEventsPerTrace = 200,
  prices = DEFAULT_PRICE_TABLE,
}: TraceTableOptions = {}): TraceTable {
  const states = new Map<string, TraceState>(); // insertion order = least recently touched first

  function keep(id: string, state: TraceState): void {
    states.delete(id);
    states.set(id, state);
    while (states.size > maxTraces) states.delete(states.keys().next().value as string);
  }

  return {
    get size() {
      return states.size;
    },

    record(traceId, event) {
      const state = states.get(traceId) ?? {
        summary: emptySummary(traceId, event.at),
        events: [],
        eventTypes: new Set<string>(),
        sent: { text: null, cards: [] },
      };
      keep(traceId, state);
      state.eventTypes.add(event.type);
      recordSent(state.sent, event);
      if (state.events.length < maxEventsPerTrace) state.events.push(event);
      else state.summary.droppedEvents++;
      reduceTrace(state.summary, event, prices);
      return state.summary;
    },

    summaryOf: (id) => states.get(id)?.summary,

    trace(id) {
      const state = states.get(id);
      if (!state) return undefined;
      const sent = { text: state.sent.text, cards: state.sent.cards.map((card) => ({ ...card })) };
      return { ...copySummary(state.summary), events: [...state.events], sent };
    },

    list(filter = {}) {
      const limit = pageLimit(filter.limit);
      const needle = filter.text?.toLowerCase();
      const result: TraceSummary[] = [];
      const recentFirst = [...states.values()].sort((a, b) => b.summary.lastAt - a.summary.lastAt);
      for (const { summary, eventTypes } of recentFirst) {
        if (filter.status && summary.status !== filter.status) continue;
        if (filter.agent && !summary.agents.includes(filter.agent)) continue;
        if (filter.tool && !summary.tools.includes(filter.tool)) continue;
        if (filter.chat && summary.chatId !== filter.chat) continue;
        if (filter.feedback && (summary.feedback ?? null) === null) continue;
        if (filter.feedback && filter.feedback !== 'any' && summary.feedback !== filter.feedback) continue;
        if (filter.types && filter.types.length > 0 && !filter.types.some((type) => eventTypes.has(type))) continue;
        if (needle && !searchableText(summary).includes(needle)) continue;
        result.push(copySummary(summary));
        if (result.length >= limit) break;
      }
      return result;
    },

    restore(trace) {
      if (states.has(trace.id)) return false;
      const { events, sent, ...summary } = trace;
      keep(trace.id, {
        summary: { ...emptySummary(trace.id, trace.firstAt), ...summary },
        events: events.slice(0, maxEventsPerTrace),
        eventTypes: new Set(events.map((event) => event.type)),
        sent,
      });
      return true;
    },

    countByStatus() {
      const byStatus: Record<TraceStatus, number> = { running: 0, done: 0, failed: 0, dead: 0 };
      for (const state of states.values()) byStatus[state.summary.status]++;
      return byStatus;
    },
  };
}

function searchableText(summary: TraceSummary): string {
  return [
    summary.id,
    summary.textPreview,
    summary.replyPreview,
    summary.chatId,
    summary.userId,
    summary.error,
    summary.notice,
    summary.ignoredReason,
    ...summary.agents,
    ...summary.tools,
    ...summary.models,
  ]
    .filter((part) => part)
    .join('\n')
    .toLowerCase();
}

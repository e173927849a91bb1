import type { EventSource, ReplyMode, StampedBotEvent } from '../observe/bot-event.js';
import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import { estimateCost } from './model-prices.js';

/** A bus event as devtools keeps it: text capped and scrubbed, numbered in arrival order. */
export type TrackedEvent = StampedBotEvent & { seq: number };

export type TraceStatus = 'running' | 'done' | 'failed' | 'dead';
export const TRACE_STATUSES: readonly TraceStatus[] = ['running', 'done', 'failed', 'dead'];

/** One inbound message from receipt to final card, summarised for lists and filters. */
export interface TraceSummary {
  id: string;
  firstAt: number;
  lastAt: number;
  durationMs: number;
  /**
   * running until the job finishes; done when it finished (also when the message was ignored);
   * failed when an attempt failed and waits for a retry, or the answer closed with a failure
   * notice; dead when the job went to the dead-letter list.
   */
  status: TraceStatus;
  source: EventSource | null;
  chatId: string | null;
  chatType: string | null;
  userId: string | null;
  textPreview: string;
  agents: string[];
  tools: string[];
  models: string[];
  agentCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** Estimate from lib/devtools/model-prices.ts; models it does not know count as zero. */
  estimatedCostUsd: number;
  unpricedModels: string[];
  errorCount: number;
  errorCategory: ErrorCategory | null;
  error: string | null;
  attempts: number;
  replyMode: ReplyMode | null;
  notice: string | null;
  ignoredReason: string | null;
  eventCount: number;
  /** Events beyond the per-trace cap, counted but not kept. */
  droppedEvents: number;
}

export interface Trace extends TraceSummary {
  /** The timeline, oldest first. */
  events: TrackedEvent[];
}

export interface EventFilter {
  /** Event types to keep (any of). */
  types?: readonly string[];
  agent?: string;
  tool?: string;
  chat?: string;
  /** Status of the event's trace. */
  status?: TraceStatus;
  traceId?: string;
  /** Case-insensitive substring of the event's JSON. */
  text?: string;
}

export interface EventQuery extends EventFilter {
  /** Only events with a larger sequence number (catch-up after a reconnect). Returns oldest first. */
  after?: number;
  /** Only events with a smaller sequence number (paging back). Returns newest first. */
  before?: number;
  limit?: number;
}

export interface EventPage {
  events: TrackedEvent[];
  /** Sequence number of the newest event in the ring (0 when empty). */
  latestSeq: number;
  /** Sequence number of the oldest event still in the ring (0 when empty). */
  oldestSeq: number;
  /** True when more matching events exist beyond this page. */
  hasMore: boolean;
}

export interface TraceFilter {
  status?: TraceStatus;
  agent?: string;
  tool?: string;
  chat?: string;
  /** Traces that contain an event of any of these types. */
  types?: readonly string[];
  /** Case-insensitive substring of id, text, chat, user, error, agents, tools. */
  text?: string;
  limit?: number;
}

export interface CategoryCount {
  count: number;
  /** count / agent calls (0 when there were none). */
  rate: number;
}

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
  agents: Record<
    string,
    { calls: number; errors: number; avgLatencyMs: number; inputTokens: number; outputTokens: number }
  >;
  subscribers: number;
}

/** A live feed for one SSE client. */
export interface TrackerSubscription {
  /**
   * Resolves with the queued events as soon as there are any, with [] after `timeoutMs`
   * (time for a heartbeat), or with null once the subscription is closed or was dropped.
   */
  take(timeoutMs: number): Promise<TrackedEvent[] | null>;
  close(): void;
  /** True when it was dropped for falling behind (its queue hit the bound). */
  readonly dropped: boolean;
  readonly closed: boolean;
}

export interface Tracker {
  events(query?: EventQuery): EventPage;
  /** Whether one event passes a filter (the live feed applies the GET /events filters with it). */
  matches(event: TrackedEvent, filter: EventFilter): boolean;
  traces(filter?: TraceFilter): TraceSummary[];
  /** From memory, else from the store (an older persisted trace); null when unknown. */
  trace(id: string): Promise<Trace | null>;
  /** The in-memory summary of one trace (cheap, synchronous); null when not in memory. */
  summary(id: string): TraceSummary | null;
  stats(): TrackerStats;
  /** Null when the subscriber limit is reached. */
  subscribe(options?: { maxQueue?: number }): TrackerSubscription | null;
  /** Loads persisted traces (call once at start); resolves with how many were loaded. */
  load(): Promise<number>;
  /** Waits until every finished trace so far has been written to the store. */
  flush(): Promise<void>;
  /** Stops listening to the bus and closes every subscription. */
  close(): Promise<void>;
}

export interface TrackerOptions {
  bus: EventBus;
  /** Where finished traces are persisted; without one, traces live only in memory. */
  store?: Pick<Store, 'putRecord' | 'listRecords' | 'getRecord'>;
  /** Events kept in the ring (DEVTOOLS_RING_SIZE). */
  ringSize?: number;
  /** Finished traces kept in the store (DEVTOOLS_TRACE_RETENTION). */
  traceRetention?: number;
  /** Traces (running and recent) kept in memory. */
  maxTraces?: number;
  /** Events kept per trace timeline; further events are counted, not kept. */
  maxEventsPerTrace?: number;
  /** Longest string kept in any event field (tool arguments and results, message text, errors). */
  maxTextChars?: number;
  maxSubscribers?: number;
  /** Default per-subscriber queue bound; a subscriber that falls this far behind is dropped. */
  subscriberQueue?: number;
  /** Secret values replaced by [redacted] wherever they appear (config.secrets). */
  secrets?: readonly string[];
  /** Called when persisting or loading traces fails; tracking itself never throws. */
  onError?: (error: unknown, where: string) => void;
}

const RECORD_COLLECTION = 'trace';
const RECORD_VERSION = 1;
const PREVIEW_CHARS = 200;
const MAX_NAMES = 32;

/**
 * Things that look like credentials even if a producer slipped one into an event by mistake:
 * OpenAI-style keys, bearer tokens, Feishu tenant/app/user access tokens.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{8,}=*/gi,
  /\b[tau]-[A-Za-z0-9_-]{30,}/g,
];

/**
 * The devtools tracker: a fixed-size ring of every bus event, grouped into one trace per
 * inbound message, persisted when a trace finishes so recent traces survive a restart.
 * Memory is bounded by `ringSize`, `maxTraces × maxEventsPerTrace` events and `maxTextChars`
 * per string field, whatever the traffic.
 *
 * @example
 * const tracker = createTracker({ bus, store, ringSize: 5000, traceRetention: 500 });
 * await tracker.load();
 * tracker.traces({ status: 'failed' });
 */
export function createTracker({
  bus,
  store,
  ringSize = 5_000,
  traceRetention = 500,
  maxTraces = 300,
  maxEventsPerTrace = 200,
  maxTextChars = 2_000,
  maxSubscribers = 16,
  subscriberQueue = 1_000,
  secrets = [],
  onError = () => {},
}: TrackerOptions): Tracker {
  if (!Number.isInteger(ringSize) || ringSize < 1) throw new RangeError('ringSize must be a positive integer');
  const ring: (TrackedEvent | undefined)[] = new Array(ringSize).fill(undefined);
  let head = 0; // next slot to write
  let count = 0;
  let lastSeq = 0;

  const traces = new Map<string, TraceState>(); // insertion order = least recently touched first
  const subscribers = new Set<SubscriptionState>();
  const secretNeedles = [...new Set(secrets.filter((secret) => secret.length >= 4))];

  const counters = {
    since: Date.now(),
    total: 0,
    byType: {} as Record<string, number>,
    messages: 0,
    agentCalls: 0,
    toolCalls: 0,
    toolErrors: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    agentErrors: zeroCategories(),
    errorEvents: zeroCategories(),
    agents: new Map<
      string,
      { calls: number; errors: number; latencyTotal: number; inputTokens: number; outputTokens: number }
    >(),
  };

  // Persistence: a coalescing queue of trace ids to write, drained one write at a time, so a
  // burst of finishing traces never opens a burst of concurrent store writes.
  const dirty = new Set<string>();
  let draining: Promise<void> | null = null;

  function scrub(value: string): string {
    let text = value;
    for (const needle of secretNeedles) if (text.includes(needle)) text = text.split(needle).join('[redacted]');
    for (const pattern of SECRET_PATTERNS) text = text.replace(pattern, '[redacted]');
    if (text.length > maxTextChars) text = `${text.slice(0, maxTextChars)}… [+${text.length - maxTextChars} chars]`;
    return text;
  }

  function sanitise(event: StampedBotEvent, seq: number): TrackedEvent {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event)) {
      if (typeof value === 'string') copy[key] = scrub(value);
      else if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
        copy[key] = value;
      // Events are flat by contract; anything nested is dropped rather than shown unchecked.
    }
    copy.seq = seq;
    return copy as TrackedEvent;
  }

  function push(event: TrackedEvent): void {
    ring[head] = event;
    head = (head + 1) % ringSize;
    if (count < ringSize) count++;
  }

  function touchTrace(id: string, at: number): TraceState {
    let state = traces.get(id);
    if (state) {
      traces.delete(id);
    } else {
      state = { summary: emptySummary(id, at), events: [], eventTypes: new Set(), persisted: false };
    }
    traces.set(id, state);
    while (traces.size > maxTraces) {
      const oldest = traces.keys().next().value as string;
      traces.delete(oldest);
    }
    return state;
  }

  function record(event: StampedBotEvent): void {
    const tracked = sanitise(event, ++lastSeq);
    push(tracked);
    count_(tracked);
    const traceId = 'traceId' in tracked ? tracked.traceId : undefined;
    if (traceId) {
      const state = touchTrace(traceId, tracked.at);
      const wasTerminal = state.summary.status !== 'running';
      applyToTrace(state, tracked);
      if (state.summary.status !== 'running' || wasTerminal) markDirty(traceId);
    }
    for (const subscriber of subscribers) subscriber.offer(tracked);
  }

  function count_(event: TrackedEvent): void {
    counters.total++;
    counters.byType[event.type] = (counters.byType[event.type] ?? 0) + 1;
    switch (event.type) {
      case 'message.received':
        counters.messages++;
        break;
      case 'agent.call': {
        counters.agentCalls++;
        counters.inputTokens += event.inputTokens;
        counters.outputTokens += event.outputTokens;
        counters.costUsd += estimateCost(event.model, event.inputTokens, event.outputTokens).usd;
        let agent = counters.agents.get(event.agent);
        if (!agent) {
          if (counters.agents.size >= MAX_NAMES * 4) break; // agent names come from config; bound anyway
          agent = { calls: 0, errors: 0, latencyTotal: 0, inputTokens: 0, outputTokens: 0 };
          counters.agents.set(event.agent, agent);
        }
        agent.calls++;
        agent.latencyTotal += event.latencyMs;
        agent.inputTokens += event.inputTokens;
        agent.outputTokens += event.outputTokens;
        if (event.outcome === 'error') {
          agent.errors++;
          counters.agentErrors[event.errorCategory ?? 'OTHER']++;
        }
        break;
      }
      case 'tool.call':
        counters.toolCalls++;
        if (event.error) counters.toolErrors++;
        break;
      case 'error':
        counters.errorEvents[event.category]++;
        break;
    }
  }

  function applyToTrace(state: TraceState, event: TrackedEvent): void {
    const summary = state.summary;
    summary.lastAt = Math.max(summary.lastAt, event.at);
    summary.firstAt = Math.min(summary.firstAt, event.at);
    summary.durationMs = summary.lastAt - summary.firstAt;
    summary.eventCount++;
    state.eventTypes.add(event.type);
    if (state.events.length < maxEventsPerTrace) state.events.push(event);
    else summary.droppedEvents++;

    switch (event.type) {
      case 'event.received':
        summary.source = event.source;
        break;
      case 'message.received':
        summary.chatId = event.chatId;
        summary.chatType = event.chatType;
        summary.userId = event.userId;
        summary.textPreview = preview(event.text);
        break;
      case 'message.ignored':
        summary.ignoredReason = event.reason;
        break;
      case 'job.started':
        summary.attempts = Math.max(summary.attempts, event.attempt);
        summary.status = 'running';
        break;
      case 'job.finished':
        if (event.outcome === 'done') summary.status = summary.notice ? 'failed' : 'done';
        else if (event.outcome === 'dead') summary.status = 'dead';
        else if (event.outcome === 'retry') summary.status = 'failed';
        if (event.error) summary.error = event.error;
        break;
      case 'agent.call': {
        addName(summary.agents, event.agent);
        addName(summary.models, event.model);
        summary.agentCalls++;
        summary.inputTokens += event.inputTokens;
        summary.outputTokens += event.outputTokens;
        const cost = estimateCost(event.model, event.inputTokens, event.outputTokens);
        summary.estimatedCostUsd += cost.usd;
        if (!cost.known) addName(summary.unpricedModels, event.model);
        if (event.outcome === 'error') {
          summary.errorCount++;
          summary.errorCategory = event.errorCategory ?? 'OTHER';
        }
        break;
      }
      case 'agent.delegation':
        addName(summary.agents, event.from);
        addName(summary.agents, event.to);
        break;
      case 'tool.call':
        addName(summary.agents, event.agent);
        addName(summary.tools, event.tool);
        summary.toolCalls++;
        if (event.error) summary.errorCount++;
        break;
      case 'reply.started':
        summary.replyMode = event.mode;
        break;
      case 'reply.finished':
        summary.replyMode = event.mode;
        if (event.notice) summary.notice = event.notice;
        break;
      case 'error':
        summary.errorCount++;
        summary.errorCategory = event.category;
        summary.error = event.message;
        break;
    }
  }

  function markDirty(id: string): void {
    if (!store) return;
    dirty.add(id);
    draining ??= drain().finally(() => {
      draining = null;
    });
  }

  async function drain(): Promise<void> {
    while (dirty.size > 0 && store) {
      const id = dirty.values().next().value as string;
      dirty.delete(id);
      const state = traces.get(id);
      if (!state) continue; // evicted before it could be written; nothing left to save
      const record: PersistedTrace = { version: RECORD_VERSION, trace: toTrace(state) };
      try {
        await store.putRecord(RECORD_COLLECTION, id, record, traceRetention);
        state.persisted = true;
      } catch (error) {
        onError(error, 'persist trace');
      }
    }
  }

  const unsubscribe = bus.subscribe((event) => {
    try {
      record(event);
    } catch (error) {
      onError(error, 'track event');
    }
  });

  function eventMatches(event: TrackedEvent, filter: EventFilter): boolean {
    if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
    const traceId = 'traceId' in event ? event.traceId : undefined;
    if (filter.traceId && traceId !== filter.traceId) return false;
    if (filter.agent) {
      const agents = [
        'agent' in event ? event.agent : undefined,
        'from' in event && event.type === 'agent.delegation' ? event.from : undefined,
        'to' in event && event.type === 'agent.delegation' ? event.to : undefined,
      ];
      if (!agents.includes(filter.agent)) return false;
    }
    if (filter.tool && !(event.type === 'tool.call' && event.tool === filter.tool)) return false;
    if (filter.chat || filter.status) {
      const summary = traceId ? traces.get(traceId)?.summary : undefined;
      const chatId = event.type === 'message.received' ? event.chatId : summary?.chatId;
      if (filter.chat && chatId !== filter.chat) return false;
      if (filter.status && summary?.status !== filter.status) return false;
    }
    if (filter.text && !JSON.stringify(event).toLowerCase().includes(filter.text.toLowerCase())) return false;
    return true;
  }

  function slotOf(seq: number): TrackedEvent | undefined {
    // Sequence numbers are contiguous in the ring, so a seq maps straight to its slot.
    const oldestSeq = lastSeq - count + 1;
    if (seq < oldestSeq || seq > lastSeq) return undefined;
    const offsetFromNewest = lastSeq - seq;
    return ring[(head - 1 - offsetFromNewest + ringSize * 2) % ringSize];
  }

  return {
    matches: eventMatches,

    events(query = {}) {
      const limit = clampLimit(query.limit, 100, 1_000);
      const oldestSeq = count === 0 ? 0 : lastSeq - count + 1;
      const events: TrackedEvent[] = [];
      let hasMore = false;
      // `after` pages forward (oldest first, the live feed catching up), else backward from `before`.
      const forward = query.after !== undefined;
      const step = forward ? 1 : -1;
      const start = forward
        ? Math.max((query.after ?? 0) + 1, oldestSeq)
        : Math.min(query.before === undefined ? lastSeq : query.before - 1, lastSeq);
      for (let seq = start; count > 0 && seq >= oldestSeq && seq <= lastSeq; seq += step) {
        const event = slotOf(seq);
        if (!event || !eventMatches(event, query)) continue;
        if (events.length === limit) {
          hasMore = true;
          break;
        }
        events.push(event);
      }
      return { events, latestSeq: lastSeq, oldestSeq, hasMore };
    },

    traces(filter = {}) {
      const limit = clampLimit(filter.limit, 100, 1_000);
      const needle = filter.text?.toLowerCase();
      const result: TraceSummary[] = [];
      const states = [...traces.values()].sort((a, b) => b.summary.lastAt - a.summary.lastAt);
      for (const state of states) {
        const summary = state.summary;
        if (filter.status && summary.status !== filter.status) continue;
        if (filter.agent && !summary.agents.includes(filter.agent)) continue;
        if (filter.tool && !summary.tools.includes(filter.tool)) continue;
        if (filter.chat && summary.chatId !== filter.chat) continue;
        if (filter.types && filter.types.length > 0 && !filter.types.some((type) => state.eventTypes.has(type)))
          continue;
        if (needle && !searchableText(summary).includes(needle)) continue;
        result.push(copySummary(summary));
        if (result.length >= limit) break;
      }
      return result;
    },

    async trace(id) {
      const state = traces.get(id);
      if (state) return toTrace(state);
      if (!store) return null;
      try {
        return parsePersisted(await store.getRecord(RECORD_COLLECTION, id));
      } catch (error) {
        onError(error, 'read trace');
        return null;
      }
    },

    summary(id) {
      const state = traces.get(id);
      return state ? copySummary(state.summary) : null;
    },

    stats() {
      const byStatus: Record<TraceStatus, number> = { running: 0, done: 0, failed: 0, dead: 0 };
      for (const state of traces.values()) byStatus[state.summary.status]++;
      const agentErrorTotal = sumValues(counters.agentErrors);
      const rate = (value: number) => (counters.agentCalls === 0 ? 0 : value / counters.agentCalls);
      const byCategory = {} as Record<ErrorCategory, CategoryCount>;
      for (const category of ERROR_CATEGORIES) {
        byCategory[category] = { count: counters.agentErrors[category], rate: rate(counters.agentErrors[category]) };
      }
      const agents: TrackerStats['agents'] = {};
      for (const [name, agent] of counters.agents) {
        agents[name] = {
          calls: agent.calls,
          errors: agent.errors,
          avgLatencyMs: agent.calls === 0 ? 0 : Math.round(agent.latencyTotal / agent.calls),
          inputTokens: agent.inputTokens,
          outputTokens: agent.outputTokens,
        };
      }
      return {
        since: counters.since,
        events: { total: counters.total, inRing: count, ringSize, byType: { ...counters.byType } },
        traces: { inMemory: traces.size, byStatus },
        messages: counters.messages,
        agentCalls: counters.agentCalls,
        toolCalls: counters.toolCalls,
        toolErrors: counters.toolErrors,
        tokens: { input: counters.inputTokens, output: counters.outputTokens },
        estimatedCostUsd: counters.costUsd,
        agentErrors: { total: agentErrorTotal, rate: rate(agentErrorTotal), byCategory },
        errors: { total: sumValues(counters.errorEvents), byCategory: { ...counters.errorEvents } },
        agents,
        subscribers: subscribers.size,
      };
    },

    subscribe({ maxQueue = subscriberQueue } = {}) {
      if (subscribers.size >= maxSubscribers) return null;
      const subscription = createSubscription(maxQueue, () => subscribers.delete(subscription));
      subscribers.add(subscription);
      return subscription;
    },

    async load() {
      if (!store) return 0;
      let records: unknown[];
      try {
        records = await store.listRecords(RECORD_COLLECTION, Math.min(traceRetention, maxTraces));
      } catch (error) {
        onError(error, 'load traces');
        return 0;
      }
      let loaded = 0;
      let maxLoadedSeq = 0;
      // Newest first from the store; insert oldest first so the LRU order matches recency.
      for (const value of [...records].reverse()) {
        const trace = parsePersisted(value);
        if (!trace || traces.has(trace.id)) continue;
        const { events, ...summary } = trace;
        const state: TraceState = {
          summary: { ...emptySummary(trace.id, trace.firstAt), ...summary },
          events: events.slice(0, maxEventsPerTrace),
          eventTypes: new Set(events.map((event) => event.type)),
          persisted: true,
        };
        traces.set(trace.id, state);
        for (const event of events) if (typeof event.seq === 'number') maxLoadedSeq = Math.max(maxLoadedSeq, event.seq);
        loaded++;
        while (traces.size > maxTraces) traces.delete(traces.keys().next().value as string);
      }
      // Continue numbering after what was persisted, so a loaded timeline and new events never
      // share a sequence number. Only while the ring is empty: its numbers must stay contiguous.
      if (count === 0) lastSeq = Math.max(lastSeq, maxLoadedSeq);
      return loaded;
    },

    async flush() {
      while (draining) await draining;
    },

    async close() {
      unsubscribe();
      for (const subscriber of [...subscribers]) subscriber.close();
      while (draining) await draining;
    },
  };
}

interface TraceState {
  summary: TraceSummary;
  events: TrackedEvent[];
  eventTypes: Set<string>;
  persisted: boolean;
}

interface PersistedTrace {
  version: number;
  trace: Trace;
}

interface SubscriptionState extends TrackerSubscription {
  offer(event: TrackedEvent): void;
}

function createSubscription(maxQueue: number, onClose: () => void): SubscriptionState {
  let queue: TrackedEvent[] = [];
  let waiter: ((events: TrackedEvent[] | null) => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let dropped = false;

  function settle(value: TrackedEvent[] | null): void {
    if (!waiter) return;
    const resolve = waiter;
    waiter = null;
    if (timer) clearTimeout(timer);
    timer = null;
    resolve(value);
  }

  const subscription: SubscriptionState = {
    get dropped() {
      return dropped;
    },
    get closed() {
      return closed;
    },
    offer(event) {
      if (closed) return;
      if (queue.length >= maxQueue) {
        // A client this far behind would only ever see stale data; drop it so memory stays
        // bounded. It reconnects and catches up from the ring with `after`.
        dropped = true;
        subscription.close();
        return;
      }
      queue.push(event);
      if (waiter) {
        const events = queue;
        queue = [];
        settle(events);
      }
    },
    take(timeoutMs) {
      if (closed) return Promise.resolve(null);
      if (queue.length > 0) {
        const events = queue;
        queue = [];
        return Promise.resolve(events);
      }
      settle([]); // one waiter at a time; a second take replaces the first
      return new Promise((resolve) => {
        waiter = resolve;
        timer = setTimeout(() => settle([]), timeoutMs);
        timer.unref?.();
      });
    },
    close() {
      if (closed) return;
      closed = true;
      queue = [];
      onClose();
      settle(null);
    },
  };
  return subscription;
}

function emptySummary(id: string, at: number): TraceSummary {
  return {
    id,
    firstAt: at,
    lastAt: at,
    durationMs: 0,
    status: 'running',
    source: null,
    chatId: null,
    chatType: null,
    userId: null,
    textPreview: '',
    agents: [],
    tools: [],
    models: [],
    agentCalls: 0,
    toolCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    estimatedCostUsd: 0,
    unpricedModels: [],
    errorCount: 0,
    errorCategory: null,
    error: null,
    attempts: 0,
    replyMode: null,
    notice: null,
    ignoredReason: null,
    eventCount: 0,
    droppedEvents: 0,
  };
}

function copySummary(summary: TraceSummary): TraceSummary {
  return {
    ...summary,
    agents: [...summary.agents],
    tools: [...summary.tools],
    models: [...summary.models],
    unpricedModels: [...summary.unpricedModels],
  };
}

function toTrace(state: TraceState): Trace {
  return { ...copySummary(state.summary), events: [...state.events] };
}

function parsePersisted(value: unknown): Trace | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Partial<PersistedTrace>;
  if (record.version !== RECORD_VERSION || typeof record.trace !== 'object' || record.trace === null) return null;
  const trace = record.trace;
  if (typeof trace.id !== 'string' || typeof trace.firstAt !== 'number' || !Array.isArray(trace.events)) return null;
  if (!TRACE_STATUSES.includes(trace.status)) return null;
  return { ...emptySummary(trace.id, trace.firstAt), ...trace };
}

function addName(list: string[], name: string): void {
  if (name && list.length < MAX_NAMES && !list.includes(name)) list.push(name);
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}…` : flat;
}

function searchableText(summary: TraceSummary): string {
  return [
    summary.id,
    summary.textPreview,
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

function zeroCategories(): Record<ErrorCategory, number> {
  const result = {} as Record<ErrorCategory, number>;
  for (const category of ERROR_CATEGORIES) result[category] = 0;
  return result;
}

function sumValues(record: Record<string, number>): number {
  let total = 0;
  for (const value of Object.values(record)) total += value;
  return total;
}

function clampLimit(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined || !Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.floor(value), max);
}

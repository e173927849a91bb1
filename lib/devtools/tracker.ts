import { DEFAULT_PRICE_TABLE, type PriceTable } from '../cost/price-table.js';
import type { EventBus } from '../observe/event-bus.js';
import { createRedactor } from '../observe/redact.js';
import type { Store } from '../store/store.js';
import { type EventFilter, eventMatches } from './event-filter.js';
import { createEventRing, type EventPage, type PageQuery } from './event-ring.js';
import { createEventTally } from './event-tally.js';
import { createLiveFeed, type LiveSubscription } from './live-feed.js';
import { emptyMetricTotals, type MetricTotalsSource } from './metric-totals.js';
import { createTracePersistence } from './trace-persistence.js';
import { copySummary, type Trace, type TraceSummary } from './trace-reducer.js';
import { createTraceTable, type TraceFilter } from './trace-table.js';
import { createEventSanitiser, type TrackedEvent } from './tracked-event.js';
import { composeStats, type TrackerStats } from './tracker-stats.js';

export type EventQuery = EventFilter & PageQuery;

export interface Tracker {
  events(query?: EventQuery): EventPage;
  /** Whether one event passes a filter (the live feed applies the GET /events filters with it). */
  matches(event: TrackedEvent, filter: EventFilter): boolean;
  traces(filter?: TraceFilter): TraceSummary[];
  /** From memory, else from the store (an older persisted trace); null when unknown. */
  trace(id: string): Promise<Trace | null>;
  /** The in-memory summary of one trace (cheap, synchronous); null when not in memory. */
  summary(id: string): TraceSummary | null;
  stats(): Promise<TrackerStats>;
  /** Null when the subscriber limit is reached. */
  subscribe(options?: { maxQueue?: number }): LiveSubscription | null;
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
  /**
   * The since-start call, token and tool totals, read from the Prometheus registry the service
   * already feeds (`() => readMetricTotals(metrics.registry)`); without one they read as zero.
   */
  totals?: MetricTotalsSource;
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
  /** Secret values redacted wherever they appear (config.secrets), besides every credential shape. */
  secrets?: readonly string[];
  /** Called when persisting or loading traces fails; tracking itself never throws. */
  onError?: (error: unknown, where: string) => void;
  /** Prices the estimated cost of traces and totals (MODEL_PRICES_FILE over the built-in table). */
  prices?: PriceTable;
}

/**
 * The devtools tracker: every bus event redacted into a fixed-size ring, grouped into one trace
 * per inbound message, persisted when a trace finishes so recent traces survive a restart, and
 * fanned out to live SSE subscribers. Memory is bounded by `ringSize`, `maxTraces ×
 * maxEventsPerTrace` events and `maxTextChars` per string field, whatever the traffic.
 *
 * @example
 * const tracker = createTracker({ bus, store, totals: () => readMetricTotals(metrics.registry) });
 * await tracker.load();
 * tracker.traces({ status: 'failed' });
 */
export function createTracker({
  bus,
  store,
  totals = async () => emptyMetricTotals(),
  ringSize = 5_000,
  traceRetention = 500,
  maxTraces = 300,
  maxEventsPerTrace = 200,
  maxTextChars = 2_000,
  maxSubscribers = 16,
  subscriberQueue = 1_000,
  secrets = [],
  onError = () => {},
  prices = DEFAULT_PRICE_TABLE,
}: TrackerOptions): Tracker {
  const since = Date.now();
  const ring = createEventRing(ringSize);
  const traces = createTraceTable({ maxTraces, maxEventsPerTrace, prices });
  const tally = createEventTally(prices);
  const feed = createLiveFeed({ maxSubscribers, subscriberQueue });
  const sanitise = createEventSanitiser({ redact: createRedactor(secrets), maxTextChars });
  const persistence = store
    ? createTracePersistence({ store, retention: traceRetention, current: (id) => traces.trace(id), onError })
    : undefined;
  const summaryOf = (id: string) => traces.summaryOf(id);
  const matches = (event: TrackedEvent, filter: EventFilter) => eventMatches(event, filter, summaryOf);

  const unsubscribe = bus.subscribe((event) => {
    try {
      const tracked = sanitise(event, ring.nextSeq);
      ring.push(tracked);
      tally.add(tracked);
      const traceId = 'traceId' in tracked ? tracked.traceId : undefined;
      if (traceId) {
        const before = traces.summaryOf(traceId)?.status;
        const { status } = traces.record(traceId, tracked);
        // Written once it leaves 'running', and again for every later event (a retry, a late reply).
        if (status !== 'running' || (before !== undefined && before !== 'running')) persistence?.markDirty(traceId);
      }
      feed.publish(tracked);
    } catch (error) {
      onError(error, 'track event');
    }
  });

  return {
    matches,
    events: (query = {}) => ring.page(query, (event) => matches(event, query)),
    traces: (filter) => traces.list(filter),

    async trace(id) {
      return traces.trace(id) ?? (await persistence?.read(id)) ?? null;
    },

    summary(id) {
      const summary = traces.summaryOf(id);
      return summary ? copySummary(summary) : null;
    },

    async stats() {
      // Read the registry first, so everything else is taken at one instant after it.
      const metricTotals = await totals();
      return composeStats({
        since,
        ring,
        traces: { size: traces.size, byStatus: traces.countByStatus() },
        subscribers: feed.size,
        totals: metricTotals,
        tally: tally.figures(),
      });
    },

    subscribe: (options) => feed.subscribe(options),

    async load() {
      if (!persistence) return 0;
      const recent = await persistence.recent(Math.min(traceRetention, maxTraces));
      let loaded = 0;
      let maxLoadedSeq = 0;
      // Newest first from the store; restore oldest first so the eviction order matches recency.
      for (const trace of recent.reverse()) {
        if (!traces.restore(trace)) continue;
        for (const event of trace.events)
          if (typeof event.seq === 'number') maxLoadedSeq = Math.max(maxLoadedSeq, event.seq);
        loaded++;
      }
      ring.continueAfter(maxLoadedSeq);
      return loaded;
    },

    flush: async () => persistence?.flush(),

    async close() {
      unsubscribe();
      feed.closeAll();
      await persistence?.flush();
    },
  };
}

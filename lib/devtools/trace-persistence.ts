import type { Store } from '../store/store.js';
import { emptySummary, type SentCard, type SentReply, TRACE_STATUSES, type Trace } from './trace-reducer.js';

export interface TracePersistenceOptions {
  store: Pick<Store, 'putRecord' | 'listRecords' | 'getRecord'>;
  /** Finished traces kept in the store (DEVTOOLS_TRACE_RETENTION); older ones are pruned. */
  retention?: number;
  /** The trace to write, read when its turn comes; undefined when it is no longer held. */
  current: (id: string) => Trace | undefined;
  /** Called when writing or reading fails; persistence never throws. */
  onError?: (error: unknown, where: string) => void;
}

export interface TracePersistence {
  /** Queues a write of this trace (several calls before its turn cost one write). */
  markDirty(id: string): void;
  /** Resolves once every trace queued so far has been written (or failed to be). */
  flush(): Promise<void>;
  /** One persisted trace; null when unknown, unreadable or of another record version. */
  read(id: string): Promise<Trace | null>;
  /** The newest persisted traces, newest first (at most `limit`). */
  recent(limit: number): Promise<Trace[]>;
}

const RECORD_COLLECTION = 'trace';
const RECORD_VERSION = 1;

interface PersistedTrace {
  version: number;
  trace: Trace;
}

/**
 * Writes finished traces to the store so recent traces survive a restart. The queue coalesces
 * by trace id and is drained one write at a time, so a burst of finishing traces never opens a
 * burst of concurrent store writes.
 *
 * @example
 * const persistence = createTracePersistence({ store, retention: 500, current: (id) => traces.trace(id) });
 * persistence.markDirty(traceId);
 * await persistence.flush();
 */
export function createTracePersistence({
  store,
  retention = 500,
  current,
  onError = () => {},
}: TracePersistenceOptions): TracePersistence {
  const dirty = new Set<string>();
  let draining: Promise<void> | null = null;

  async function drain(): Promise<void> {
    while (dirty.size > 0) {
      const id = dirty.values().next().value as string;
      dirty.delete(id);
      const trace = current(id);
      if (!trace) continue; // evicted before it could be written; nothing left to save
      const record: PersistedTrace = { version: RECORD_VERSION, trace };
      try {
        await store.putRecord(RECORD_COLLECTION, id, record, retention);
      } catch (error) {
        onError(error, 'persist trace');
      }
    }
  }

  return {
    markDirty(id) {
      dirty.add(id);
      draining ??= drain().finally(() => {
        draining = null;
      });
    },

    async flush() {
      while (draining) await draining;
    },

    async read(id) {
      try {
        return parsePersisted(await store.getRecord(RECORD_COLLECTION, id));
      } catch (error) {
        onError(error, 'read trace');
        return null;
      }
    },

    async recent(limit) {
      let records: unknown[];
      try {
        records = await store.listRecords(RECORD_COLLECTION, limit);
      } catch (error) {
        onError(error, 'load traces');
        return [];
      }
      return records.map(parsePersisted).filter((trace): trace is Trace => trace !== null);
    },
  };
}

/** A stored record back into a trace; null for anything that is not a trace of this version. */
function parsePersisted(value: unknown): Trace | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Partial<PersistedTrace>;
  if (record.version !== RECORD_VERSION || typeof record.trace !== 'object' || record.trace === null) return null;
  const trace = record.trace;
  if (typeof trace.id !== 'string' || typeof trace.firstAt !== 'number' || !Array.isArray(trace.events)) return null;
  if (!TRACE_STATUSES.includes(trace.status)) return null;
  return { ...emptySummary(trace.id, trace.firstAt), ...trace, sent: parseSent(trace.sent) };
}

/** A trace written before the sent text was kept has none; a malformed card is left out. */
function parseSent(value: unknown): SentReply {
  const sent = typeof value === 'object' && value !== null ? (value as Partial<SentReply>) : {};
  const cards = Array.isArray(sent.cards) ? (sent.cards as unknown[]) : [];
  return {
    text: typeof sent.text === 'string' ? sent.text : null,
    cards: cards.filter(
      (card): card is SentCard =>
        typeof card === 'object' &&
        card !== null &&
        typeof (card as SentCard).index === 'number' &&
        typeof (card as SentCard).cardId === 'string' &&
        typeof (card as SentCard).text === 'string',
    ),
  };
}

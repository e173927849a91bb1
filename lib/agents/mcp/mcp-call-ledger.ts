import type { Store } from '../../store/store.js';

/** The `_meta` key an approved call's idempotency key travels under (a reverse-DNS prefix, not MCP's reserved one). */
export const IDEMPOTENCY_META_KEY = 'io.feishu-bot/idempotency-key';

const COLLECTION = 'mcp-calls';
/** Calls remembered at most (the oldest forgotten first): far more than a crash ever replays. */
const MAX_CALLS = 10_000;
/** Characters of a result kept to answer a re-run with. */
const MAX_RESULT_CHARS = 20_000;

/** What the ledger knows of a call before it is made. */
export type McpCallState =
  /** Never started: make it (it is now recorded as started). */
  | { state: 'new' }
  /** Started by an earlier attempt that did not record an end: it may have run. */
  | { state: 'started'; at: number }
  /** Finished before: its result, instead of calling again. */
  | { state: 'completed'; result: string };

/**
 * Approved MCP write calls by idempotency key, in the store: recorded as started before the
 * call and completed with its result after, so a run continued after a crash neither repeats a
 * finished call nor silently repeats one that may have run.
 */
export interface McpCallLedger {
  /** What an earlier attempt left for `key`; records the call as started when there was none. */
  begin(key: string): Promise<McpCallState>;
  complete(key: string, result: string): Promise<void>;
  /** The call failed before the server could act (not connected): a later attempt may make it. */
  abandon(key: string): Promise<void>;
}

interface CallRecord {
  state: 'started' | 'completed';
  at: number;
  result?: string;
}

/**
 * @example
 * const ledger = createMcpCallLedger({ store });
 * const before = await ledger.begin(key); // { state: 'new' } the first time
 */
export function createMcpCallLedger({
  store,
  now = Date.now,
}: {
  store: Pick<Store, 'getRecord' | 'putRecord'>;
  now?: () => number;
}): McpCallLedger {
  return {
    async begin(key) {
      const record = (await store.getRecord(COLLECTION, key)) as CallRecord | null;
      if (record?.state === 'completed') return { state: 'completed', result: record.result ?? '' };
      if (record?.state === 'started') return { state: 'started', at: record.at };
      await store.putRecord(COLLECTION, key, { state: 'started', at: now() } satisfies CallRecord, MAX_CALLS);
      return { state: 'new' };
    },
    async complete(key, result) {
      const record: CallRecord = { state: 'completed', at: now(), result: result.slice(0, MAX_RESULT_CHARS) };
      await store.putRecord(COLLECTION, key, record, MAX_CALLS);
    },
    async abandon(key) {
      await store.putRecord(COLLECTION, key, null, MAX_CALLS);
    },
  };
}

import { STORE_WRITE_METHODS, type Store, StoreUnavailableError } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import type { ReadinessCheck } from './health-routes.js';
import { sanitiseErrorMessage } from './sanitise-error-message.js';

/**
 * Writes that store something whenever they succeed. Only these prove the store can write again:
 * a claim that finds no job or a purge with nothing to delete commits without needing a byte of
 * space, and would end the failure on a disk that is still full.
 */
const STORING_WRITES: ReadonlySet<string> = new Set<keyof Store>([
  'claimKey',
  'admit',
  'enqueue',
  'saveCheckpoint',
  'completeJob',
  'failJob',
  'appendHistory',
  'incrementCounter',
  'putRecord',
]);

/** The name of the readiness check, as `/health` and `/health/ready` list it. */
export const STORE_WRITES_CHECK = 'store-writes';

/** The counter key the readiness check writes to find out whether the store takes writes again. */
export const STORE_WRITE_PROBE_KEY = 'health:store-write-probe';

export interface StoreWriteFailure {
  /** Epoch ms of the first failed write since the last one that succeeded. */
  since: number;
  /** What the store said (secrets and long text already trimmed). */
  error: string;
}

export interface StoreWriteHealth {
  /** The store to hand to every part of the bot: the same store, with each write observed. */
  readonly store: Store;
  /** Null while writes succeed; otherwise since when they fail, and why. */
  readonly failure: StoreWriteFailure | null;
  /**
   * Fails while the last write failed: `/health/ready` answers 503 and `/health` is unhealthy.
   * While failing it tries one small write itself (at most every `probeIntervalMs`), so an idle
   * instance comes back once the disk has room again.
   */
  readonly check: ReadinessCheck;
}

export interface StoreWriteHealthOptions {
  /** Told when writes start failing and when they succeed again (a log line each, not one per write). */
  onChange?: (failure: StoreWriteFailure | null) => void;
  probeIntervalMs?: number;
  now?: () => number;
}

/**
 * One signal for "the store cannot write" (a full disk, a read-only file system, Redis out of
 * memory or gone): every write of the bot goes through the returned store, so inbox admission,
 * job completion, checkpoints and memory all report to it without a flag of their own. Only
 * `StoreUnavailableError`s count; an invalid argument is a bug, not an unwritable store.
 *
 * @example
 * const writes = watchStoreWrites(await openStore(url), { onChange: (failure) => log.warn({ failure }) });
 * readinessChecks.push(writes.check);
 * createInbox({ store: writes.store, ... });
 */
export function watchStoreWrites(
  store: Store,
  { onChange, probeIntervalMs = 1_000, now = Date.now }: StoreWriteHealthOptions = {},
): StoreWriteHealth {
  let failure: StoreWriteFailure | null = null;
  let lastProbeAt = Number.NEGATIVE_INFINITY;
  let probing: Promise<void> | undefined;

  function succeeded(): void {
    if (failure === null) return;
    failure = null;
    onChange?.(null);
  }

  function failed(error: unknown): void {
    if (!StoreUnavailableError.isInstance(error) || failure !== null) return;
    failure = { since: now(), error: sanitiseErrorMessage(errorMessage(error), { maxLength: 200 }) };
    onChange?.(failure);
  }

  function observe<T>(method: string, result: Promise<T>): Promise<T> {
    return result.then(
      (value) => {
        if (STORING_WRITES.has(method)) succeeded();
        return value;
      },
      (error: unknown) => {
        failed(error);
        throw error;
      },
    );
  }

  // One wrapper per write method, made on first use; everything else is the store's own.
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const observed = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !STORE_WRITE_METHODS.has(property) || typeof value !== 'function')
        return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) {
        wrapper = (...args) => {
          let result: Promise<unknown>;
          try {
            result = Promise.resolve(Reflect.apply(value, target, args));
          } catch (error) {
            failed(error);
            return Promise.reject(error);
          }
          return observe(property, result);
        };
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });

  function probe(): Promise<void> {
    probing ??= (async () => {
      lastProbeAt = now();
      try {
        await observed.incrementCounter(STORE_WRITE_PROBE_KEY, 60_000, now());
      } catch {
        // Recorded by `observe`; the check reports the failure below.
      }
    })().finally(() => {
      probing = undefined;
    });
    return probing;
  }

  return {
    store: observed,
    get failure() {
      return failure;
    },
    check: {
      name: STORE_WRITES_CHECK,
      critical: true,
      check: async () => {
        if (failure !== null && now() - lastProbeAt >= probeIntervalMs) await probe();
        if (failure !== null)
          throw new Error(`store writes failing since ${new Date(failure.since).toISOString()}: ${failure.error}`);
      },
    },
  };
}

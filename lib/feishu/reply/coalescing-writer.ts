import { sleep as realSleep, type Sleep } from '../../util/sleep.js';

/**
 * Writes only the newest of many values, one write at a time. `offer` never waits: a value that
 * arrives while a write is in flight (or while backing off) replaces any older unwritten one,
 * so a slow or rate-limited server sees the latest state, never a backlog.
 *
 * A failed write is retried with the newest value after `retryDelay(error, failures)` ms;
 * `undefined` gives that value up (`onGiveUp`) and the writer waits for the next offer.
 *
 * @example
 * const writer = createCoalescingWriter({ write: (text) => pushToCard(text), waitTurn: () => gate.ready() });
 * writer.offer('Hel'); writer.offer('Hello'); // 'Hel' is skipped if 'Hello' arrives in time
 * await writer.flush(); // 'Hello' was written (or given up)
 */
export interface CoalescingWriter<T> {
  offer(value: T): void;
  /** Resolves when the newest value offered so far has been written or given up. */
  flush(): Promise<void>;
  /** Stops after the write in flight; later offers are ignored and pending flushes resolve. */
  stop(): Promise<void>;
}

export interface CoalescingWriterOptions<T> {
  write: (value: T) => Promise<void>;
  /** Waits until a write may start (rate limit); the value is picked after it, so it is fresh. */
  waitTurn?: () => Promise<void>;
  /** Milliseconds before retrying after `failures` consecutive failures, or undefined to give up. */
  retryDelay?: (error: unknown, failures: number) => number | undefined;
  onGiveUp?: (error: unknown, value: T) => void;
  sleep?: Sleep;
}

export function createCoalescingWriter<T>({
  write,
  waitTurn = async () => {},
  retryDelay = () => undefined,
  onGiveUp = () => {},
  sleep = realSleep,
}: CoalescingWriterOptions<T>): CoalescingWriter<T> {
  let latest: T | undefined;
  /** Version of the newest offered value, and of the newest one settled (written or given up). */
  let offered = 0;
  let settled = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const flushers: Array<{ version: number; resolve: () => void }> = [];

  const settle = (version: number) => {
    settled = Math.max(settled, version);
    for (let index = flushers.length - 1; index >= 0; index--) {
      const flusher = flushers[index]!;
      if (flusher.version <= settled || stopped) {
        flushers.splice(index, 1);
        flusher.resolve();
      }
    }
  };

  const loop = async () => {
    let failures = 0;
    while (!stopped) {
      if (settled >= offered) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      await waitTurn();
      if (stopped) break;
      const version = offered;
      const value = latest as T;
      try {
        await write(value);
        failures = 0;
        settle(version);
      } catch (error) {
        failures++;
        const delay = retryDelay(error, failures);
        if (delay === undefined) {
          failures = 0;
          onGiveUp(error, value);
          settle(version);
        } else if (delay > 0) {
          await sleep(delay);
        }
      }
    }
    settle(offered);
  };
  const done = loop();

  return {
    offer(value) {
      if (stopped) return;
      latest = value;
      offered++;
      wake?.();
    },
    flush() {
      if (settled >= offered || stopped) return Promise.resolve();
      return new Promise<void>((resolve) => {
        flushers.push({ version: offered, resolve });
      });
    },
    async stop() {
      stopped = true;
      wake?.();
      await done;
      settle(offered);
    },
  };
}

import { withTimeout } from '../../lib/util/with-timeout.js';

/** Waiting on a fake's state without sleeps (shared by the fake Feishu and the fake OpenAI). */
export interface ProbeWaiter {
  /** Re-runs every pending probe; the fake calls it after each change a test might wait for. */
  notify(): void;
  /**
   * Resolves with the probe's first truthy result. Rejects with what the probe threw, or with
   * `onTimeout()` (built when the time is up, so it can describe the state then) after `timeoutMs`.
   */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs: number, onTimeout: () => Error): Promise<T>;
  /** Forgets pending probes (their timeouts still fire). */
  clear(): void;
}

/**
 * A set of probes re-checked on `notify()` and, with `pollMs`, on a timer too: state that changes
 * with time alone (a token expiring, a stream timing out) needs the timer.
 *
 * @example
 * const waiter = createProbeWaiter({ pollMs: 25 });
 * await waiter.waitFor(() => requests.length >= 2, 5_000, () => new Error('expected 2 requests'));
 */
export function createProbeWaiter({ pollMs }: { pollMs?: number } = {}): ProbeWaiter {
  const probes = new Set<() => void>();
  return {
    notify() {
      for (const check of [...probes]) check();
    },
    waitFor<T>(probe: () => T | undefined | null | false, timeoutMs: number, onTimeout: () => Error): Promise<T> {
      let stop = () => {};
      const satisfied = new Promise<T>((resolve, reject) => {
        const check = () => {
          let value: T | undefined | null | false;
          try {
            value = probe();
          } catch (error) {
            stop();
            reject(error);
            return;
          }
          if (value) {
            stop();
            resolve(value);
          }
        };
        const timer = pollMs === undefined ? undefined : setInterval(check, pollMs);
        stop = () => {
          clearInterval(timer);
          probes.delete(check);
        };
        probes.add(check);
        check();
      });
      return withTimeout(satisfied, timeoutMs, onTimeout).finally(() => stop());
    },
    clear() {
      probes.clear();
    },
  };
}

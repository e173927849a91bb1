/** A pause; injected where tests replace real time (`Sleep` is the type to accept). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Resolves after `ms` (negative counts as 0). With a `signal` it rejects with the signal's reason
 * as soon as it aborts, so a shutdown never waits out a back-off. The timer is unref'd: a pending
 * pause never keeps the process alive on its own.
 *
 * @example
 * await sleep(retryDelayMs, job.signal);
 */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });

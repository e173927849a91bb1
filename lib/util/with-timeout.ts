/**
 * Settles like `promise`, or rejects with `onTimeout()` once `timeoutMs` has passed first. The
 * timer is cleared when the promise settles, so nothing lingers. The promise itself is not
 * cancelled: pass an AbortSignal to the operation where it can be stopped.
 *
 * @example
 * const body = await withTimeout(fetchThing(), 5_000, () => new ThingError('timed out after 5 s'));
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, timeoutMs));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

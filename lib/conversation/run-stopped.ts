import type { RunWatch } from './run-stops.js';

/** Thrown out of a slow phase before the model (memory seeding, attachments) when the asker stopped the run. */
export class RunStoppedError extends Error {
  readonly code = 'RUN_STOPPED';
  constructor() {
    super('run stopped by the asker');
    this.name = 'RunStoppedError';
  }
  static isInstance(error: unknown): error is RunStoppedError {
    return error instanceof Error && (error as { code?: unknown }).code === 'RUN_STOPPED';
  }
}

/**
 * `work`, or a RunStoppedError as soon as the run is stopped (the work is left to finish unheard).
 *
 * @example
 * const history = await untilStopped(watch, memory.load({ key, currentMessageId, traceId }));
 */
export function untilStopped<T>(watch: RunWatch | undefined, work: Promise<T>): Promise<T> {
  if (watch === undefined) return work;
  const { signal } = watch;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new RunStoppedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onStop = () => reject(new RunStoppedError());
    signal.addEventListener('abort', onStop, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onStop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onStop);
        reject(error);
      },
    );
  });
}

/**
 * Thrown to hand a job back when its signal aborted (shutdown, lease lost): the dispatcher
 * releases it for another attempt instead of counting a failure.
 *
 * @example
 * if (signal.aborted) throw new JobAbortedError(signal.reason);
 */
export class JobAbortedError extends Error {
  readonly code = 'JOB_ABORTED';
  constructor(reason: unknown) {
    super(`job stopped: ${String(reason)}`);
    this.name = 'AbortError';
  }
}

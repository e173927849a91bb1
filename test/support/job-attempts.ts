import type { JobContext } from '../../lib/inbox/job-handler.js';

export interface JobAttempts {
  /** The JobContext of one attempt; every attempt sees the checkpoint the previous one saved. */
  context(attempts: number, signal?: AbortSignal): JobContext;
  /** What the last attempt saved, as the store would return it (a JSON round trip). */
  readonly checkpoint: unknown;
  /** Back to `initialCheckpoint`, for the next test. */
  reset(): void;
}

/**
 * Successive attempts of one job without a store or dispatcher: what a resumed or handed-back
 * reply needs (the same idempotency keys, the checkpoint of the attempt before).
 *
 * @example
 * const attempts = jobAttempts({ id: 'job-1', lane: 'oc_chat' });
 * const first = createReplySinkForJob({ context: attempts.context(1, drain.signal), … });
 * const second = createReplySinkForJob({ context: attempts.context(2), … });
 */
export function jobAttempts({
  id,
  lane,
  payload = {},
  keyPrefix = id,
  initialCheckpoint,
}: {
  id: string;
  lane: string;
  payload?: unknown;
  /** Idempotency keys are `${keyPrefix}-${part}`. */
  keyPrefix?: string;
  initialCheckpoint?: unknown;
}): JobAttempts {
  let checkpoint = initialCheckpoint;
  return {
    context(attempts, signal = new AbortController().signal) {
      return {
        job: {
          id,
          lane,
          kind: 'answer',
          payload,
          status: 'leased',
          attempts,
          owner: 'worker',
          leaseUntil: null,
          availableAt: 0,
          checkpoint,
          lastError: null,
          createdAt: 0,
          updatedAt: 0,
        },
        signal,
        saveCheckpoint: async (value) => {
          checkpoint = JSON.parse(JSON.stringify(value));
        },
        idempotencyKey: (part) => `${keyPrefix}-${part}`,
      };
    },
    get checkpoint() {
      return checkpoint;
    },
    reset() {
      checkpoint = initialCheckpoint;
    },
  };
}

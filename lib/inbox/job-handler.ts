import type { Job } from '../store/store.js';

/** Why a running job's signal was aborted. */
export type AbortReason = 'shutdown' | 'lease-lost' | 'timeout';

export interface JobContext {
  /** The leased job; `job.payload` is the InboundEvent, `job.checkpoint` any saved progress. */
  job: Job;
  /** Aborted when the job must stop: the process drains, or the lease was lost. `signal.reason` is an AbortReason. */
  signal: AbortSignal;
  /** Persists progress (e.g. the card being streamed into) so a resumed attempt continues it. */
  saveCheckpoint(checkpoint: unknown): Promise<void>;
  /**
   * A Feishu `uuid` (≤ 50 chars) that is the same for every attempt of this job and `part`,
   * so a resumed job cannot post a second message.
   */
  idempotencyKey(part: string): string;
}

/** Does the work of one job. Throwing marks the attempt failed (retried, then dead-lettered). */
export type JobHandler = (context: JobContext) => Promise<void>;

import type { NormalisedMessage } from '../feishu/normalise-message.js';
import type { Logger } from '../log.js';
import type { ApprovalJobPayload, ApprovalService, PausedRun } from './approvals.js';
import type { MessageJob } from './message-job.js';

/**
 * An 'approval' job: the person decided on a paused run's changes; the approval card shows the
 * decision and the run goes on from there (an expired run ends at the card).
 *
 * @example
 * const continueAfterDecision = createApprovalContinuation({ approvals, log, answer });
 * if (job.job.kind === APPROVAL_JOB_KIND) return continueAfterDecision(read);
 */
export function createApprovalContinuation({
  approvals,
  log,
  answer,
}: {
  approvals?: ApprovalService | undefined;
  log: Logger;
  /** The answer step, resumed with the paused run. */
  answer: (read: MessageJob, message: NormalisedMessage, resume: PausedRun) => Promise<void>;
}): (read: MessageJob) => Promise<void> {
  return async (read) => {
    const run = (read.job.job.payload as Partial<ApprovalJobPayload>).approvalRun;
    const paused = run === undefined ? undefined : await approvals?.load(run);
    if (approvals === undefined || paused === undefined || paused.decision === undefined) {
      log.warn({ traceId: read.job.job.id, run }, 'approval job without a decided paused run: nothing to continue');
      return;
    }
    await approvals.closeCard(paused).catch((error: unknown) => {
      log.warn({ traceId: read.job.job.id, err: error }, 'could not show the decision on the approval card');
    });
    if (paused.decision === 'expired' || read.message.kind !== 'message') return;
    await answer(read, read.message, paused);
  };
}

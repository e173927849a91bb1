import { createHash } from 'node:crypto';

/**
 * A Feishu `uuid` for one send of one job: the same for every attempt of the job, so a job
 * resumed after a crash re-sends with the same uuid and Feishu posts it once. Formatted as a
 * 36-character UUID (Feishu accepts up to 50) from sha256(jobId, part).
 *
 * @example
 * await client.im.v1.message.reply({ path: { message_id }, data: { ..., uuid: idempotencyKey(job.id, 'answer') } });
 */
export function idempotencyKey(jobId: string, part: string): string {
  const hex = createHash('sha256').update(jobId).update('\u0000').update(part).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

import type { FeishuClient } from '../../lib/feishu/feishu-client.js';
import type { InboundEvent } from '../../lib/inbox/inbound-event.js';
import type { JobHandler } from '../../lib/inbox/job-handler.js';

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error(`aborted: ${String(signal.reason)}`));
      },
      { once: true },
    );
  });
}

/**
 * A stand-in for the conversation step in ingress tests: waits `delayMs` (a slow model), then
 * replies to the message through the real SDK client with the job's idempotency key as `uuid`.
 * When the real conversation handler lands, tests swap this one factory call for it.
 */
export function createEchoAnswerHandler({
  client,
  delayMs = 0,
  onStart,
  onReplied,
  holdAfterReplyMs = 0,
}: {
  client: FeishuClient | undefined;
  delayMs?: number;
  /** Called when an attempt starts (the crash test kills the process then). */
  onStart?: (jobId: string, attempt: number) => void;
  /** Called after the reply landed, before the job completes (the crash test kills it there too). */
  onReplied?: (jobId: string, attempt: number) => void;
  /**
   * First attempt only: stay running this long after replying, a window where the answer is out
   * but the job is not done yet (a resumed attempt then finishes at once).
   */
  holdAfterReplyMs?: number;
}): JobHandler {
  return async ({ job, signal, idempotencyKey }) => {
    if (client === undefined) throw new Error('echo handler needs a Feishu client');
    onStart?.(job.id, job.attempts);
    const inbound = job.payload as InboundEvent;
    const message = (inbound.event as { message: { message_id: string; content: string } }).message;
    if (delayMs > 0) await abortableDelay(delayMs, signal);
    const text = (JSON.parse(message.content) as { text?: string }).text ?? '';
    const response = await client.im.v1.message.reply({
      path: { message_id: message.message_id },
      data: { msg_type: 'text', content: JSON.stringify({ text: `Echo: ${text}` }), uuid: idempotencyKey('answer') },
    });
    if (response.code !== 0) throw new Error(`reply failed: ${response.code} ${response.msg}`);
    onReplied?.(job.id, job.attempts);
    if (holdAfterReplyMs > 0 && job.attempts === 1)
      await new Promise((resolve) => setTimeout(resolve, holdAfterReplyMs));
  };
}

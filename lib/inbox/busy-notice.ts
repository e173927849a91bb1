import { callFeishu } from '../feishu/call-feishu.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { Logger } from '../log.js';
import { createEventBus, type EventBus } from '../observe/event-bus.js';
import type { InboundEvent } from './inbound-event.js';
import type { JobHandler } from './job-handler.js';

export const DEFAULT_BUSY_TEXT =
  'Sorry, I am answering a lot of messages right now and could not take yours. Please send it again in a few minutes.';

function messageOf(payload: unknown): { messageId: string; senderType: string | undefined } | undefined {
  const event = (payload as Partial<InboundEvent> | null)?.event as
    | { message?: { message_id?: unknown }; sender?: { sender_type?: unknown } }
    | undefined;
  const messageId = event?.message?.message_id;
  if (typeof messageId !== 'string' || messageId.length === 0) return undefined;
  const senderType = event?.sender?.sender_type;
  return { messageId, senderType: typeof senderType === 'string' ? senderType : undefined };
}

/**
 * The 'notice' job: when the backlog is full, the user gets a polite reply instead of silence.
 * Sent with the job's idempotency key as `uuid`, so a retried notice is posted once.
 * Messages from bots get no notice (bots answering bots loop).
 *
 * @example
 * handlers: { notice: createBusyNoticeHandler({ client, log, bus }) }
 */
export function createBusyNoticeHandler({
  client,
  log,
  bus = createEventBus(),
  text = DEFAULT_BUSY_TEXT,
}: {
  client: FeishuClient | undefined;
  log: Logger;
  /** Where the reply call is reported as `feishu.api`. */
  bus?: EventBus;
  text?: string;
}): JobHandler {
  return async ({ job, idempotencyKey }) => {
    const message = messageOf(job.payload);
    if (client === undefined || message === undefined || message.senderType === 'app') {
      log.info({ jobId: job.id }, 'busy notice skipped: no Feishu message to reply to');
      return;
    }
    // Throws a FeishuApiError on failure: the dispatcher retries it like any job.
    await callFeishu(
      bus,
      'im.v1.message.reply',
      () =>
        client.im.v1.message.reply({
          path: { message_id: message.messageId },
          data: { msg_type: 'text', content: JSON.stringify({ text }), uuid: idempotencyKey('busy-notice') },
        }),
      { client, timeoutMs: 10_000 },
    );
  };
}

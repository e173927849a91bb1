import type { ReplySink } from '../../conversation/reply-sink.js';
import type { JobContext } from '../../inbox/job-handler.js';
import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import type { FeishuClient } from '../feishu-client.js';
import { parseCardCheckpoint } from './card-checkpoint.js';
import { createStreamingCardReply, type StreamingCardReplyOptions } from './streaming-card-reply.js';

/** The key of the job checkpoint object that holds the reply's progress. */
export const REPLY_CHECKPOINT_KEY = 'reply';
/** The key holding the attempt number the reply's card sequences were last based on. */
export const REPLY_ATTEMPT_KEY = 'replyAttempt';

export interface ReplySinkForJobOptions
  extends Omit<
    StreamingCardReplyOptions,
    | 'client'
    | 'bus'
    | 'log'
    | 'target'
    | 'traceId'
    | 'idempotencyKey'
    | 'checkpoint'
    | 'saveCheckpoint'
    | 'attempt'
    | 'signal'
  > {
  context: JobContext;
  /**
   * The user's message (a NormalisedMessage or the conversation's ReplyContext fits): replies
   * go under it, in its thread when it has one (or as `replyInThread` says).
   */
  message: { messageId?: string | undefined; chatId: string; threadId?: string | undefined; replyInThread?: boolean };
  client: FeishuClient;
  bus: EventBus;
  log: Logger;
}

/**
 * The streaming card reply for one inbox job, wired to the job's checkpoint, idempotency keys,
 * attempt number and abort signal (see `StreamingCardReplyOptions.signal`). The job checkpoint is treated as an object whose `reply` key
 * belongs to this sink; other keys are kept as they are when it saves.
 *
 * @example
 * const sink = createReplySinkForJob({ context, message, client, bus, log,
 *   updatesPerSecond: config.reply.cardUpdatesPerSecond });
 * await sink.start();
 */
export function createReplySinkForJob({
  context,
  message,
  client,
  bus,
  log,
  ...options
}: ReplySinkForJobOptions): ReplySink {
  const { job } = context;
  let stored: Record<string, unknown> =
    typeof job.checkpoint === 'object' && job.checkpoint !== null && !Array.isArray(job.checkpoint)
      ? { ...(job.checkpoint as Record<string, unknown>) }
      : {};
  const checkpoint = parseCardCheckpoint(stored[REPLY_CHECKPOINT_KEY]);
  // Card sequences are based on the attempt number and must rise across attempts. A job handed
  // back on shutdown keeps its attempt count (it does not count against maxAttempts), so the
  // number used last is kept beside the reply and the next sink goes above it.
  const previous = stored[REPLY_ATTEMPT_KEY];
  const attempt = Math.min(
    2000,
    Math.max(1, job.attempts, typeof previous === 'number' && Number.isInteger(previous) ? previous + 1 : 0),
  );
  stored = { ...stored, [REPLY_ATTEMPT_KEY]: attempt };
  const sink = createStreamingCardReply({
    ...options,
    client,
    bus,
    log,
    traceId: job.id,
    target: {
      messageId: message.messageId,
      chatId: message.chatId,
      replyInThread: message.replyInThread ?? Boolean(message.threadId),
    },
    idempotencyKey: (part) => context.idempotencyKey(part),
    checkpoint,
    saveCheckpoint: async (reply) => {
      stored = { ...stored, [REPLY_CHECKPOINT_KEY]: reply };
      await context.saveCheckpoint(stored);
    },
    attempt,
    signal: context.signal,
  });
  if (checkpoint === undefined || checkpoint.cards.length === 0) return sink;
  return {
    ...sink,
    // Resuming cards: record this attempt before writing to them, because the sink itself may
    // never save (its cards were all sent) and a third attempt must go above this one too.
    async start() {
      try {
        await context.saveCheckpoint(stored);
      } catch (error) {
        log.warn({ err: error, jobId: job.id }, 'could not record the reply attempt');
      }
      await sink.start();
    },
  };
}

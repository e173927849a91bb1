import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import { callFeishu, FeishuApiError } from '../call-feishu.js';
import type { FeishuClient } from '../feishu-client.js';
import type { Sleep } from './rate-gate.js';

/** Where an answer goes: under the user's message, in its thread when it has one. */
export interface ReplyTarget {
  /** The user's message the answer replies to. */
  messageId: string;
  /** Its chat, used when the message was recalled and a reply is no longer possible. */
  chatId: string;
  /** Reply inside the message's thread (true for messages that are in a thread). */
  replyInThread: boolean;
}

export interface BackoffOptions {
  /** First retry delay (default 500 ms); doubles (`factor`) up to `maxMs` (default 8 s). */
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Consecutive failures before giving up (default 8). */
  maxRetries?: number;
  /** A server-given wait longer than this is capped (default 30 s). */
  maxRetryAfterMs?: number;
  /** Random spread of each delay, 0..1 (default 0.1), so many replies do not retry in lockstep. */
  jitter?: number;
}

export interface ResolvedBackoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  maxRetries: number;
  maxRetryAfterMs: number;
  jitter: number;
}

export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  return {
    initialMs: options.initialMs ?? 500,
    maxMs: options.maxMs ?? 8_000,
    factor: options.factor ?? 2,
    maxRetries: options.maxRetries ?? 8,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    jitter: options.jitter ?? 0.1,
  };
}

/**
 * How long to wait before retry number `failures` (1-based) after `error`, or undefined when
 * retrying is pointless (a permanent error) or the retries are used up. A rate-limit answer's
 * own wait (`x-ogw-ratelimit-reset`) wins over the exponential delay.
 */
export function retryDelayFor(error: unknown, failures: number, backoff: ResolvedBackoff): number | undefined {
  if (failures > backoff.maxRetries) return undefined;
  if (!FeishuApiError.isInstance(error) || !error.transient) return undefined;
  const exponential = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (failures - 1));
  const spread = exponential * backoff.jitter * Math.random();
  const computed = Math.round(exponential - spread);
  if (error.rateLimited && error.retryAfterMs !== undefined) {
    return Math.min(backoff.maxRetryAfterMs, Math.max(error.retryAfterMs, backoff.initialMs));
  }
  return computed;
}

/** Retries `operation` on transient Feishu errors per `backoff`; rethrows anything else. */
export async function withRetries<T>(
  operation: () => Promise<T>,
  { backoff, sleep }: { backoff: ResolvedBackoff; sleep: Sleep },
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await operation();
    } catch (error) {
      const delay = retryDelayFor(error, failures, backoff);
      if (delay === undefined) throw error;
      await sleep(delay);
    }
  }
}

/** The reply target is gone (recalled or unknown): post into the chat instead. */
const TARGET_GONE_CODES: ReadonlySet<number> = new Set([230011, 231003]);

export interface SendReplyOptions {
  client: FeishuClient;
  bus: EventBus;
  log: Logger;
  target: ReplyTarget;
  msgType: 'text' | 'post' | 'interactive';
  /** The message `content` JSON string. */
  content: string;
  /** Feishu `uuid`: the same key never creates a second message (Feishu keeps it about an hour). */
  uuid: string;
  /** uuid for the chat fallback when the target message was recalled. */
  chatUuid: string;
  timeoutMs: number;
  backoff: ResolvedBackoff;
  sleep: Sleep;
}

/**
 * Replies to the user's message (in its thread when asked), retrying transient failures with
 * the same `uuid` so a retry after a lost answer cannot post twice. When the user's message was
 * recalled, the answer goes to the chat instead. Returns the new message id.
 */
export async function sendReply({
  client,
  bus,
  log,
  target,
  msgType,
  content,
  uuid,
  chatUuid,
  timeoutMs,
  backoff,
  sleep,
}: SendReplyOptions): Promise<string> {
  try {
    const body = await withRetries(
      () =>
        callFeishu(
          bus,
          'im.v1.message.reply',
          () =>
            client.im.v1.message.reply({
              path: { message_id: target.messageId },
              data: { msg_type: msgType, content, uuid, reply_in_thread: target.replyInThread },
            }),
          { client, timeoutMs },
        ),
      { backoff, sleep },
    );
    return requireMessageId(body?.data?.message_id, 'im.v1.message.reply');
  } catch (error) {
    if (!(FeishuApiError.isInstance(error) && error.code !== undefined && TARGET_GONE_CODES.has(error.code))) {
      throw error;
    }
    log.warn({ code: error.code, messageId: target.messageId }, 'reply target is gone; posting to the chat instead');
    const body = await withRetries(
      () =>
        callFeishu(
          bus,
          'im.v1.message.create',
          () =>
            client.im.v1.message.create({
              params: { receive_id_type: 'chat_id' },
              data: { receive_id: target.chatId, msg_type: msgType, content, uuid: chatUuid },
            }),
          { client, timeoutMs },
        ),
      { backoff, sleep },
    );
    return requireMessageId(body?.data?.message_id, 'im.v1.message.create');
  }
}

function requireMessageId(messageId: string | undefined, api: string): string {
  if (!messageId) throw new FeishuApiError({ api, message: `${api} answered without a message_id` });
  return messageId;
}

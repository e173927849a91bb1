import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import type { Sleep } from '../../util/sleep.js';
import type { FeishuClient } from '../feishu-client.js';
import type { RetryPolicyOptions } from './retry-policy.js';

/**
 * Where an answer goes: under the user's message, in its thread when it has one; or, with no
 * message (a scheduled run, a notification), straight into the chat.
 */
export interface ReplyTarget {
  /** The user's message the answer replies to; absent: a new message in the chat. */
  messageId?: string | undefined;
  /** Its chat, used when the message was recalled and a reply is no longer possible. */
  chatId: string;
  /** Reply inside the message's thread (true for messages that are in a thread). */
  replyInThread: boolean;
}

/** What one reply is wired to: the client it calls, where it reports, whom it answers. */
export interface ReplyWiring {
  client: FeishuClient;
  bus: EventBus;
  log: Logger;
  target: ReplyTarget;
  /** Groups this reply's events with the rest of the job (the inbox job id). */
  traceId: string;
  /**
   * `JobContext.idempotencyKey`: the same for every attempt of the job and part, so a retried or
   * resumed job never posts twice.
   */
  idempotencyKey: (part: string) => string;
}

/**
 * What every Feishu reply takes, whatever it shows: the streaming card and the plain-text reply
 * (which is also the card's fallback, built from the card's own options).
 */
export interface ReplyOptions extends ReplyWiring {
  /** Shown for an empty answer: Feishu rejects empty messages, and a card element cannot be empty. */
  emptyText?: string;
  backoff?: RetryPolicyOptions;
  /** Per-call timeout; the SDK has none of its own. */
  requestTimeoutMs?: number;
  sleep?: Sleep;
}

/** Defaults of the optional `ReplyOptions`, the same for every kind of reply. */
export const REPLY_DEFAULTS = { emptyText: '…', requestTimeoutMs: 10_000 } as const;

import { type NormaliseResult, normaliseMessage } from '../feishu/normalise-message.js';
import type { Language } from '../i18n/language.js';
import type { InboundEvent } from '../inbox/inbound-event.js';
import type { JobContext } from '../inbox/job-handler.js';
import type { ReplyContext, ReplySink, ReplySinkFor } from './reply-sink.js';

/** The bot's open_id (mentions are compared to it); a function when it is resolved later. */
export type BotOpenId = string | (() => string | undefined | Promise<string | undefined>);

/** One message job as every conversation handler reads it. */
export interface MessageJob {
  job: JobContext;
  inbound: InboundEvent;
  /** The neutral message, or why it cannot be read (with its chat details when they were present). */
  message: NormaliseResult;
}

/** Thrown when a job payload is not an InboundEvent, or a reply is asked for a message without ids. */
export class MessageJobError extends Error {
  constructor(
    readonly code: 'NOT_AN_INBOUND_EVENT' | 'NO_REPLY_TARGET',
    message: string,
  ) {
    super(message);
    this.name = 'MessageJobError';
  }
}

function readInbound(payload: unknown): InboundEvent {
  if (typeof payload !== 'object' || payload === null || !('event' in payload)) {
    throw new MessageJobError('NOT_AN_INBOUND_EVENT', 'job payload is not an InboundEvent');
  }
  return payload as InboundEvent;
}

/**
 * Reads a message job: its stored InboundEvent, normalised with mentions resolved against the
 * bot's open_id (asked for now, so a bot identity fetched after start-up is used).
 *
 * @example
 * const read = await readMessageJob(job, botOpenId);
 * if (read.message.kind === 'unsupported') return;
 */
export async function readMessageJob(job: JobContext, botOpenId: BotOpenId | undefined): Promise<MessageJob> {
  const inbound = readInbound(job.job.payload);
  const openId = typeof botOpenId === 'function' ? await botOpenId() : botOpenId;
  const message = inbound.message ?? normaliseMessage(inbound.event, { botOpenId: openId });
  // The app is part of the message's conversation key (memory, lanes, room context).
  return {
    job,
    inbound,
    message: inbound.appId !== undefined && message.kind === 'message' ? { ...message, appId: inbound.appId } : message,
  };
}

/** Where a reply to the job's message goes, when the message carried its id and chat. */
/** How a reply opens: with a Stop control, and in which language its labels are written. */
export interface ReplyOptions {
  stoppable?: boolean;
  language?: Language | undefined;
}

export function replyContextFor(
  { job, inbound, message }: MessageJob,
  { stoppable = false, language }: ReplyOptions = {},
): ReplyContext | undefined {
  const { messageId, chatId, chatType } = message;
  if (!messageId || !chatId || chatType === undefined) return undefined;
  const threadId = message.kind === 'message' ? message.threadId : undefined;
  const rootId = message.kind === 'message' ? message.rootId : undefined;
  return {
    traceId: job.job.id,
    source: inbound.source,
    messageId,
    chatId,
    chatType,
    ...(threadId ? { threadId } : {}),
    ...(rootId ? { rootId } : {}),
    replyInThread: threadId !== undefined && threadId !== '',
    ...(stoppable && message.sender?.openId ? { stoppableBy: message.sender.openId } : {}),
    ...(language === undefined ? {} : { language }),
    job,
  };
}

/**
 * Opens the reply to the job's message (the sink's `start`, e.g. a "thinking" card) and returns
 * the sink to finish or fail.
 *
 * @example
 * const sink = await startReply(read, replySinkFor);
 * await sink.finish('Hello!');
 */
export async function startReply(
  read: MessageJob,
  replySinkFor: ReplySinkFor,
  options: ReplyOptions = {},
): Promise<ReplySink> {
  const context = replyContextFor(read, options);
  if (context === undefined) {
    throw new MessageJobError('NO_REPLY_TARGET', `job ${read.job.job.id}: the message has no id or chat to reply to`);
  }
  const sink = replySinkFor(context);
  await sink.start();
  return sink;
}

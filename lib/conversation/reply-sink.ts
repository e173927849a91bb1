import type { Language } from '../i18n/language.js';
import type { JobContext } from '../inbox/job-handler.js';
import type { EventSource } from '../observe/bot-event.js';

/**
 * Where an answer goes while it is produced. The Feishu streaming card, the plain-text
 * fallback and the devtools playground each implement it, so the agent code does not know
 * which one it writes to.
 *
 * Calls arrive in this order: `start` once, `update` any number of times with the FULL text
 * so far (never a delta), then exactly one of `finish` or `fail`. Implementations throttle and
 * order their own writes; `update` must never block the model stream.
 */
export interface ReplySink {
  /** Shows the user that work started (a "thinking" card, a reaction). */
  start(): Promise<void>;
  update(fullText: string): void;
  /** The final answer; `summary` is a short footer such as the model and token count. */
  finish(finalText: string, summary?: string): Promise<void>;
  /** Closes the reply with what was said so far plus a short honest notice. */
  fail(partialText: string, notice: string): Promise<void>;
  /**
   * What the agent is doing (the steps so far, time since it started), the whole picture each
   * time like `update`. Optional: a sink without a place to show it ignores it. Must not block.
   */
  progress?(progress: ReplyProgress): void;
}

/** One thing the agent did or is doing while it answers. */
export interface ReplyStep {
  kind: 'specialist' | 'tool';
  /** The specialist's or tool's name. */
  name: string;
  state: 'running' | 'done' | 'failed';
  /** How long it took, or has been running. */
  elapsedMs: number;
}

/** The agent's progress as a reply shows it. */
export interface ReplyProgress {
  steps: readonly ReplyStep[];
  /** Since the answer started. */
  elapsedMs: number;
  /** Steps left out of `steps` (only the newest are kept). */
  omitted: number;
  /** True once the answer is complete: the panel is summarised and folded. */
  done: boolean;
}

/** Everything a ReplySink factory needs to answer one message (Feishu card, text, devtools). */
export interface ReplyContext {
  /** The inbox job id; groups the reply's events with the rest of the message's. */
  traceId: string;
  /** Which transport brought the message; `createReplyRouter` picks the sink by it. */
  source: EventSource;
  /** The user's message the answer replies to. */
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group';
  threadId?: string;
  rootId?: string;
  /** Reply inside the thread: true when the message is in a topic thread. */
  replyInThread: boolean;
  /**
   * The answer can be stopped by the person who asked (open_id): the reply offers a Stop control
   * while it streams. Absent for notices and command replies.
   */
  stoppableBy?: string;
  /** The language of the reply's own labels (buttons); absent: English. */
  language?: Language;
  /** The job: idempotencyKey(part), saveCheckpoint, job.checkpoint, job.attempts, signal. */
  job: JobContext;
}

/** Opens the sink one message's reply is written into (see `createReplyRouter`). */
export type ReplySinkFor = (context: ReplyContext) => ReplySink;

import type { ErrorCategory } from './error-category.js';
import type { ToolErrorCategory } from './tool-error-category.js';

/**
 * What every step of a message's path reports. Producers only emit; the health monitor,
 * Prometheus metrics and the devtools tracker each subscribe and keep what they need.
 * `traceId` groups the events of one inbound message (it is the inbox job id).
 *
 * Keep payloads small and free of secrets: devtools shows them verbatim (text is capped). The
 * message and answer texts are references to strings that exist anyway; an observer that keeps
 * them caps them first (the devtools tracker does, and redacts them).
 */
export type BotEvent =
  | { type: 'event.received'; traceId: string; source: EventSource; eventType: string; eventId: string }
  | { type: 'event.duplicate'; traceId: string; source: EventSource; key: 'event_id' | 'message_id' }
  | {
      type: 'event.rejected';
      source: EventSource;
      status: number;
      reason: string;
      /** The app whose webhook refused it (several apps in one process); absent: the default one. */
      app?: string;
    }
  /**
   * Acknowledged and not stored: `stale` (created longer ago than the dedupe TTL: its dedupe keys
   * may be gone, so it could be answered twice), `flood` (a chat or sender past its cap of stored
   * messages a minute), `backlog-full` (pending jobs past the hard cap).
   */
  | { type: 'event.dropped'; traceId: string; source: EventSource; reason: 'stale' | 'flood' | 'backlog-full' }
  /**
   * Something that looks like an attack. `message-origin`: Feishu does not confirm the message an
   * event names in the chat and from the sender it claims (a forged event); the job ends unanswered.
   */
  | {
      type: 'security.event';
      traceId: string;
      kind: 'message-origin';
      reason: 'MESSAGE_UNKNOWN' | 'CHAT_MISMATCH' | 'SENDER_MISMATCH';
    }
  /** A message from a bot (`bot`/`app` sender type, or our own open_id: `self`), neither answered nor noticed. */
  | { type: 'message.bot-skipped'; traceId: string; sender: 'bot' | 'app' | 'self' }
  | { type: 'job.queued'; traceId: string; jobId: string; lane: string; kind: string }
  /**
   * A schedule's due time was handled: its run enqueued (`ran`), skipped with a note because it
   * was missed by too much (`skipped`), or found already enqueued by an instance that died before
   * recording it (`duplicate`). `traceId` is the run's job id.
   */
  | {
      type: 'schedule.run';
      traceId: string;
      scheduleId: string;
      chatId: string;
      outcome: 'ran' | 'skipped' | 'duplicate';
      lateMs: number;
    }
  | { type: 'job.started'; traceId: string; jobId: string; lane: string; attempt: number }
  | {
      type: 'job.finished';
      traceId: string;
      jobId: string;
      outcome: 'done' | 'retry' | 'dead' | 'released';
      durationMs: number;
      error?: string;
    }
  | { type: 'job.busy'; traceId: string; jobId: string; backlog: number }
  | {
      type: 'message.received';
      traceId: string;
      chatId: string;
      chatType: 'p2p' | 'group' | 'local';
      userId: string;
      /** The sender's display name from Feishu contacts, when known. */
      userName?: string;
      text: string;
    }
  | { type: 'message.ignored'; traceId: string; reason: string }
  | {
      type: 'agent.call';
      traceId: string;
      agent: string;
      model: string;
      latencyMs: number;
      outcome: 'success' | 'error';
      inputTokens: number;
      outputTokens: number;
      errorCategory?: ErrorCategory;
    }
  | {
      /** One model call's tokens and estimated cost, attributed to the chat and person who asked. */
      type: 'usage.recorded';
      traceId: string;
      app: string;
      agent: string;
      model: string;
      /** Absent for calls outside a received message (the doctor, a scheduled run's setup). */
      chatId?: string;
      userId?: string;
      inputTokens: number;
      outputTokens: number;
      costUsd: number;
      /** False when the price table does not know the model: cost 0, and no budget counts it. */
      priced: boolean;
    }
  | {
      /** A person's own Feishu authorization changed (never carries a token). */
      type: 'user-auth.changed';
      userId: string;
      /** The app (its id in this process) whose authorization it is: each app's tokens are its own. */
      app?: string;
      change: 'granted' | 'declined' | 'wrong-person' | 'refreshed' | 'revoked' | 'logged-out' | 'departed';
    }
  | {
      /** A run paused: its write tools wait for the person's approval. */
      type: 'approval.requested';
      traceId: string;
      tools: string[];
      expiresAt: number;
    }
  | {
      type: 'approval.decided';
      traceId: string;
      decision: 'approved' | 'always' | 'denied' | 'expired';
      tools: string[];
      /** open_id of who pressed; absent when it expired. */
      by?: string;
    }
  | { type: 'agent.delegation'; traceId: string; from: string; to: string; task: string }
  | AttachmentResolvedEvent
  | {
      type: 'turn.resolved';
      traceId: string;
      /** What reached the model for the user's turn, one line per part, in order (no bytes); flat like every event. */
      parts: string;
      partCount: number;
      images: number;
      /** The model asked first for this turn (VISION_MODEL for images), when not MODEL. */
      model?: string;
      /** Notices shown to the user beside the answer, one a line. */
      notices: string;
      elapsedMs: number;
    }
  | {
      /** A tool call begins (before its execute), so the card can show it while it runs. */
      type: 'tool.started';
      traceId: string;
      agent: string;
      tool: string;
      /** The AI SDK's id of this call; the matching `tool.call` carries the same. */
      toolCallId?: string;
    }
  | {
      type: 'tool.call';
      traceId: string;
      agent: string;
      tool: string;
      /** The AI SDK's id of this call, as in its `tool.started`. */
      toolCallId?: string;
      /** Arguments and result, capped for display. */
      input: string;
      output: string;
      latencyMs: number;
      // The next three are optional only because traces the devtools persisted before tools
      // reported them are read back; every tool call sets them.
      /** Whose permissions the call used: the app's, the asking user's, or none (no Feishu call). */
      identity?: ToolIdentityUsed;
      /** Characters of the result the model received (after bounding). */
      resultChars?: number;
      /** The result was cut to its bounds. */
      truncated?: boolean;
      error?: string;
      errorCategory?: ToolErrorCategory;
    }
  | { type: 'model.fallback'; traceId: string; from: string; to: string; reason: ErrorCategory }
  | { type: 'model.rate-limit'; traceId?: string; model: string; retryAfterMs?: number; remaining?: number }
  | {
      /**
       * One verdict on one model inside an agent call: it answered, it failed (by category), or
       * its open breaker refused the call unsent. A turn a fallback answered is still a success
       * ('agent.call'); the primary's failure is visible per model here.
       */
      type: 'model.attempt';
      traceId?: string;
      agent: string;
      model: string;
      outcome: 'success' | 'error' | 'refused';
      latencyMs: number;
      category?: ErrorCategory;
    }
  | {
      /** A model's adaptive concurrency limit changed, and why (grown, or cut on a 429 or a latency spike). */
      type: 'model.concurrency';
      model: string;
      limit: number;
      previous: number;
      reason: string;
    }
  | {
      /** A model's circuit breaker changed state; `cooldownMs` and `category` when it opened. */
      type: 'model.breaker';
      model: string;
      state: 'open' | 'half-open' | 'closed';
      cooldownMs?: number;
      category?: ErrorCategory;
    }
  | { type: 'reply.started'; traceId: string; mode: ReplyMode; cardId?: string; messageId?: string }
  | { type: 'reply.update'; traceId: string; cardId: string; sequence: number; length: number }
  | {
      /** A card is full and the answer continues in card `index + 1`; `text` is the part this card holds. */
      type: 'reply.card';
      traceId: string;
      cardId: string;
      index: number;
      text: string;
    }
  | {
      type: 'reply.finished';
      traceId: string;
      mode: ReplyMode;
      length: number;
      cards: number;
      /**
       * The whole answer as the user sees it: a card or text message shows a failure's `notice`
       * after the partial text, the playground shows it apart. Devtools caps and redacts it.
       */
      text: string;
      notice?: string;
    }
  | {
      /** A card button was pressed; `traceId` is the run the button belongs to, when it names one. */
      type: 'card.action';
      traceId?: string;
      action: string;
      outcome: 'done' | 'refused' | 'duplicate' | 'unknown' | 'failed';
    }
  | {
      /** The asker (or a chat admin) rated a finished answer: 👍 up or 👎 down. The latest vote counts. */
      type: 'answer.feedback';
      traceId: string;
      rating: 'up' | 'down';
      /** The agent that answered and the model that served it. */
      agent: string;
      model: string;
    }
  | {
      /**
       * The reply gave up on CardKit for the rest of the run and goes on as plain text messages
       * (cards refused at the start, or a card that could no longer be written).
       */
      type: 'reply.fallback';
      traceId: string;
      to: 'text';
      /** Why, first line of the error (codes, no secrets). */
      reason: string;
    }
  | {
      /** A run was stopped by its asker (the Stop button, or "stop" typed in the conversation). */
      type: 'run.stopped';
      traceId: string;
      via: 'button' | 'message';
      /** Characters of the answer that were shown before it stopped. */
      length: number;
    }
  | { type: 'feishu.api'; api: string; outcome: 'ok' | 'rate-limited' | 'error'; latencyMs: number; code?: number }
  | {
      type: 'feishu.connection';
      state: ConnectionState;
      reconnects: number;
      /** The app whose long connection it is; absent: the default one. */
      app?: string;
    }
  | { type: 'error'; traceId?: string; category: ErrorCategory; message: string; where: string }
  | { type: 'process.error'; kind: 'uncaughtException' | 'unhandledRejection'; message: string };

export type ToolIdentityUsed = 'tenant' | 'user' | 'none';
export type EventSource = 'webhook' | 'websocket' | 'devtools';
export type ReplyMode = 'card' | 'text' | 'devtools';
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'off';
export type BotEventType = BotEvent['type'];
/** An event with the time the bus stamped on it. */
export type StampedBotEvent = BotEvent & { at: number };

/**
 * One part of a message resolved in the job (downloaded and read, transcribed, or read back from
 * Feishu), or the notice it became instead. Names and sizes only: no bytes, no document text.
 */
export interface AttachmentResolvedEvent {
  type: 'attachment.resolved';
  traceId: string;
  part: 'image' | 'file' | 'audio' | 'quote' | 'forward' | 'unreadable';
  /** The message the part belongs to, and the platform's key for its resource. */
  messageId?: string;
  key?: string;
  /** The file name, or "the image" / "the voice message". */
  name: string;
  /** Detected from the bytes. */
  mediaType?: string;
  sizeBytes?: number;
  outcome: 'ok' | 'notice';
  /** Served from the job's resource cache (a retry), not downloaded again. */
  cached?: boolean;
  /** Characters of text the model got from it (a document, a transcript, a quoted or forwarded message). */
  chars?: number;
  /** The transcript of a voice message, capped for display. */
  transcript?: string;
  /** The notice the user saw instead, and its stable code. */
  notice?: string;
  code?: string;
  downloadMs?: number;
  /** Downloading and reading it together. */
  elapsedMs: number;
}

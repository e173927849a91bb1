import type { StampedBotEvent } from '../observe/bot-event.js';
import type { Redactor } from '../observe/redact.js';

/** A bus event as devtools keeps it: text capped and redacted, numbered in arrival order. */
export type TrackedEvent = StampedBotEvent & { seq: number };

export interface EventSanitiserOptions {
  /** The service's one redactor (`createRedactor(config.secrets)`). */
  redact: Redactor;
  /** Longest string kept in any event field (tool arguments and results, message text, errors). */
  maxTextChars?: number;
  /**
   * Longest answer text kept (`text` of `reply.finished` and `reply.card`): what the bot sent is
   * the thing to inspect, so it gets more room than a tool result. One per card and answer.
   */
  maxReplyChars?: number;
}

/** Events whose `text` is what the bot sent. */
const REPLY_TEXT_EVENTS: ReadonlySet<string> = new Set(['reply.finished', 'reply.card']);

/** Turns a bus event into the copy devtools keeps and shows, numbered `seq`. */
export type EventSanitiser = (event: StampedBotEvent, seq: number) => TrackedEvent;

/**
 * Copies a bus event for devtools: every string field redacted, then capped at `maxTextChars`
 * (an answer's text at `maxReplyChars`) with a note of how much was cut; numbers, booleans and
 * null kept; anything nested dropped (events are flat by contract, so a nested value is shown
 * nowhere rather than shown unchecked).
 *
 * @example
 * const sanitise = createEventSanitiser({ redact: createRedactor(config.secrets), maxTextChars: 2_000 });
 * ring.push(sanitise(event, ring.nextSeq));
 */
export function createEventSanitiser({
  redact,
  maxTextChars = 2_000,
  maxReplyChars = 16_000,
}: EventSanitiserOptions): EventSanitiser {
  function text(value: string, max: number): string {
    // Cut before redacting, so a runaway answer costs no more than the cap (plus a margin that
    // keeps a credential straddling the cut whole, so it is still recognised and redacted).
    const head = value.length > max + 256 ? value.slice(0, max + 256) : value;
    const redacted = redact(head);
    const total = redacted.length + (value.length - head.length);
    if (total <= max) return redacted;
    return `${redacted.slice(0, max)}… [+${total - max} chars]`;
  }

  return (event, seq) => {
    const copy: Record<string, unknown> = {};
    const replyText = REPLY_TEXT_EVENTS.has(event.type);
    for (const [key, value] of Object.entries(event)) {
      if (typeof value === 'string')
        copy[key] = text(value, replyText && key === 'text' ? maxReplyChars : maxTextChars);
      else if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
        copy[key] = value;
    }
    copy.seq = seq;
    return copy as TrackedEvent;
  };
}

import type { StampedBotEvent } from '../observe/bot-event.js';
import type { Redactor } from '../observe/redact.js';

/** A bus event as devtools keeps it: text capped and redacted, numbered in arrival order. */
export type TrackedEvent = StampedBotEvent & { seq: number };

export interface EventSanitiserOptions {
  /** The service's one redactor (`createRedactor(config.secrets)`). */
  redact: Redactor;
  /** Longest string kept in any event field (tool arguments and results, message text, errors). */
  maxTextChars?: number;
}

/** Turns a bus event into the copy devtools keeps and shows, numbered `seq`. */
export type EventSanitiser = (event: StampedBotEvent, seq: number) => TrackedEvent;

/**
 * Copies a bus event for devtools: every string field redacted, then capped at `maxTextChars`
 * with a note of how much was cut; numbers, booleans and null kept; anything nested dropped
 * (events are flat by contract, so a nested value is shown nowhere rather than shown unchecked).
 *
 * @example
 * const sanitise = createEventSanitiser({ redact: createRedactor(config.secrets), maxTextChars: 2_000 });
 * ring.push(sanitise(event, ring.nextSeq));
 */
export function createEventSanitiser({ redact, maxTextChars = 2_000 }: EventSanitiserOptions): EventSanitiser {
  function text(value: string): string {
    const redacted = redact(value);
    if (redacted.length <= maxTextChars) return redacted;
    return `${redacted.slice(0, maxTextChars)}… [+${redacted.length - maxTextChars} chars]`;
  }

  return (event, seq) => {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event)) {
      if (typeof value === 'string') copy[key] = text(value);
      else if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
        copy[key] = value;
    }
    copy.seq = seq;
    return copy as TrackedEvent;
  };
}

import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { NoticeKind } from './decide.js';

/**
 * What the conversation step says in the reply besides the model's answer: notices, the stopped
 * and interrupted endings, the approval notes and the card's summary line.
 *
 * @example
 * await sink.finish(textsFor(language).notices.greeting);
 * await sink.fail(textSoFar, textsFor(language).stopped);
 */

const ENGLISH = textsFor('en');
/** What a shutdown-interrupted answer's card ends with (English; `textsFor(language).interrupted`). */
export const INTERRUPTED_NOTICE = ENGLISH.interrupted;
/** What a stopped answer's card ends with, after the text so far (English). */
export const STOPPED_NOTICE = ENGLISH.stopped;
/** How a stopped answer is remembered, so the next turn knows it was cut short (for the model: English). */
export const STOPPED_MEMORY_MARK = '[stopped by the user before the answer was complete]';
/** The answer's ending when a run paused with an approval card (English). */
export const APPROVAL_WAITING_NOTE = ENGLISH.approvalWaiting;
/** The answer's ending when a run wanted approval but the card could not be sent (English). */
export const APPROVAL_UNSENT_NOTE = ENGLISH.approvalUnsent;
/** The reply to a message `decide` answers with a notice instead of the model (English). */
export const NOTICES: Record<NoticeKind, string> = ENGLISH.notices;

/** The card's footer: model · tokens · seconds, in the reply's language. */
export function summaryLine(
  answer: {
    model: string | undefined;
    inputTokens: number;
    outputTokens: number;
    latencyMs: number;
  },
  language: Language = 'en',
): string {
  const say = textsFor(language).footer;
  const parts = [
    answer.model,
    say.tokens(answer.inputTokens + answer.outputTokens),
    say.seconds((answer.latencyMs / 1000).toFixed(1)),
  ];
  return parts.filter((part) => part !== undefined).join(' · ');
}

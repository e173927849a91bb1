import type { NoticeKind } from './decide.js';

/**
 * What the conversation step says in the reply besides the model's answer: notices, the stopped
 * and interrupted endings, the approval notes and the card's summary line.
 *
 * @example
 * await sink.finish(NOTICES['greeting']);
 * await sink.fail(textSoFar, STOPPED_NOTICE);
 */

/** What a shutdown-interrupted answer's card ends with; the job is handed back and runs again. */
export const INTERRUPTED_NOTICE = 'I was interrupted by a restart and will pick this up again in a moment.';
/** What a stopped answer's card ends with, after the text so far. */
export const STOPPED_NOTICE = '⏹ Stopped';
/** How a stopped answer is remembered, so the next turn knows it was cut short. */
export const STOPPED_MEMORY_MARK = '[stopped by the user before the answer was complete]';
/** The answer's ending when a run paused with an approval card. */
export const APPROVAL_WAITING_NOTE = 'Waiting for your approval: see the card below.';
/** The answer's ending when a run wanted approval but the card could not be sent. */
export const APPROVAL_UNSENT_NOTE = 'I wanted to make a change but could not ask for approval, so nothing was changed.';
/** The reply to a message `decide` answers with a notice instead of the model. */
export const NOTICES: Record<NoticeKind, string> = {
  'unsupported-type':
    'I cannot read this kind of message. Send your question as text, a picture, a file or a voice message.',
  greeting: 'Hi! Ask me anything, or send /help to see what I can do.',
};

/** The card's footer: model · tokens · seconds. */
export function summaryLine(answer: {
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
}): string {
  const parts = [
    answer.model,
    `${answer.inputTokens + answer.outputTokens} tokens`,
    `${(answer.latencyMs / 1000).toFixed(1)} s`,
  ];
  return parts.filter((part) => part !== undefined).join(' · ');
}

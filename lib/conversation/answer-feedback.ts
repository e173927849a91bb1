import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import type { CardActionHandler } from './card-actions.js';

/** Store collections: what answered each run, and the rating it got. */
const ANSWERS = 'answer-meta';
const FEEDBACK = 'answer-feedback';
const MAX_RECORDS = 10_000;

export type Rating = 'up' | 'down';

/** What answered a run, kept so a later rating is counted against it. */
export interface AnsweredBy {
  agent: string;
  model: string;
  latencyMs: number;
}

/** One rating as stored beside the run. */
export interface FeedbackRecord extends AnsweredBy {
  run: string;
  rating: Rating;
  by: string;
  at: number;
}

/** The feedback toasts in `language` (English: `FEEDBACK_TEXT`). */
export function feedbackTexts(language: Language) {
  const { toasts } = textsFor(language);
  return { thanks: { up: toasts.thanksUp, down: toasts.thanksDown }, unknown: toasts.cannotRate };
}

export const FEEDBACK_TEXT = feedbackTexts('en');

function isAnsweredBy(value: unknown): value is AnsweredBy {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AnsweredBy).agent === 'string' &&
    typeof (value as AnsweredBy).model === 'string'
  );
}

/**
 * Records what answered a run, when its answer is finished: a rating pressed later (on any
 * instance) is stored and counted with it.
 *
 * @example
 * await recordAnsweredBy(store, job.id, { agent: 'manager', model: answer.model, latencyMs: answer.latencyMs });
 */
export async function recordAnsweredBy(store: Store, run: string, answeredBy: AnsweredBy): Promise<void> {
  await store.putRecord(ANSWERS, run, answeredBy, MAX_RECORDS);
}

/** The rating a run got, if any. */
export async function feedbackFor(store: Store, run: string): Promise<FeedbackRecord | undefined> {
  const record = await store.getRecord(FEEDBACK, run);
  return record === null ? undefined : (record as FeedbackRecord);
}

/**
 * The 👍 / 👎 buttons' handler for the card action router: stores the rating beside the run (the
 * latest vote counts), reports `answer.feedback` (metrics by agent and model, the devtools trace)
 * and thanks the presser.
 *
 * @example
 * createCardActionRouter({ handlers: { feedback: feedbackButtonHandler({ store, bus }) }, store, bus, log });
 */
export function feedbackButtonHandler({
  store,
  bus,
  now = Date.now,
}: {
  store: Store;
  bus: EventBus;
  now?: () => number;
}): CardActionHandler {
  return async (control, press) => {
    const rating = control.choice;
    const say = feedbackTexts(control.language ?? 'en');
    const answeredBy = await store.getRecord(ANSWERS, control.run);
    if ((rating !== 'up' && rating !== 'down') || !isAnsweredBy(answeredBy)) {
      return { toast: { kind: 'warning', text: say.unknown } };
    }
    const record: FeedbackRecord = {
      run: control.run,
      rating,
      by: press.operatorId,
      at: now(),
      agent: answeredBy.agent,
      model: answeredBy.model,
      latencyMs: answeredBy.latencyMs,
    };
    await store.putRecord(FEEDBACK, control.run, record, MAX_RECORDS);
    bus.emit({ type: 'answer.feedback', traceId: control.run, rating, agent: record.agent, model: record.model });
    return { toast: { kind: 'success', text: say.thanks[rating] } };
  };
}

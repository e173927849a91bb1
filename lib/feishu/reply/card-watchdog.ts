import { textsFor } from '../../i18n/bot-texts.js';
import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import type { Job, JobStatus, Store } from '../../store/store.js';
import { errorMessage } from '../../util/error-message.js';
import { callFeishu } from '../call-feishu.js';
import type { FeishuClient } from '../feishu-client.js';
import { parseCardCheckpoint } from './card-checkpoint.js';
import { buildCardJson } from './card-json.js';
import { SEQUENCES_PER_ATTEMPT } from './cardkit-operations.js';
import { REPLY_ATTEMPT_KEY, REPLY_CHECKPOINT_KEY } from './reply-for-job.js';

/** Store collection: jobs whose cards the watchdog has closed (so it does each once). */
const SWEPT = 'card-watchdog';
const MAX_RECORDS = 10_000;

/** What a card left on "Thinking…" (or blank) by an ended job shows once the watchdog closes it (English). */
export const WATCHDOG_NOTICE = textsFor('en').watchdog.unanswered;
/** The same when the job finished with its answer sent as text messages (cards could not be written). */
export const WATCHDOG_TEXT_NOTICE = textsFor('en').watchdog.sentAsText;

export interface CardWatchdog {
  /** One pass over recently ended jobs; resolves with how many cards it closed. */
  sweep(): Promise<number>;
  stop(): void;
}

export interface CardWatchdogOptions {
  store: Store;
  /** The client, or per job the client of the app that wrote its cards (none: not this watchdog's job). */
  client: FeishuClient | ((job: Job) => FeishuClient | undefined);
  bus: EventBus;
  log: Logger;
  /** How often it looks. Default 60 s. */
  intervalMs?: number;
  /** Ended jobs looked at per pass and status (newest first). */
  lookback?: number;
  requestTimeoutMs?: number;
}

function checkpointObject(job: Job): Record<string, unknown> {
  const value = job.checkpoint;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * Closes cards whose job ended while they were still streaming: a reply that could not close
 * them (Feishu refusing the last writes, a process gone between the answer and the close) must
 * not leave a card with a typing cursor forever. A reply that closed its cards says so in its
 * checkpoint (`closed`); for the other ended jobs (done or dead) the watchdog turns streaming off
 * on each card once, with a sequence above every attempt's, and remembers the job in the store,
 * so several instances and later passes leave it alone. A first card the checkpoint says still
 * shows "Thinking…" (no answer text was ever written to it) is rewritten with a notice instead,
 * so nobody is left looking at an empty card that will never answer.
 *
 * @example
 * const watchdog = startCardWatchdog({ store, client, bus, log });
 * // on shutdown:
 * watchdog.stop();
 */
export function startCardWatchdog({
  store,
  client,
  bus,
  log,
  intervalMs = 60_000,
  lookback = 50,
  requestTimeoutMs = 10_000,
}: CardWatchdogOptions): CardWatchdog {
  /** Turns streaming off, or for a card with no answer text replaces it with the notice (streaming off). */
  const clientOf = typeof client === 'function' ? client : () => client;
  const closeCard = (client: FeishuClient, cardId: string, sequence: number, shown: string | undefined) =>
    shown !== undefined
      ? callFeishu(
          bus,
          'cardkit.v1.card.update',
          () =>
            client.cardkit.v1.card.update({
              path: { card_id: cardId },
              data: {
                card: {
                  type: 'card_json',
                  data: buildCardJson({ body: { text: shown }, streaming: false, summary: shown }),
                },
                sequence,
              },
            }),
          { client, timeoutMs: requestTimeoutMs },
        )
      : callFeishu(
          bus,
          'cardkit.v1.card.settings',
          () =>
            client.cardkit.v1.card.settings({
              path: { card_id: cardId },
              data: { settings: JSON.stringify({ config: { streaming_mode: false } }), sequence },
            }),
          { client, timeoutMs: requestTimeoutMs },
        );

  async function closeCards(job: Job): Promise<number> {
    const stored = checkpointObject(job);
    const reply = parseCardCheckpoint(stored[REPLY_CHECKPOINT_KEY]);
    if (reply === undefined || reply.closed === true) return 0;
    const sent = reply.cards.filter((card) => card.messageId !== undefined);
    if (sent.length === 0) return 0;
    const jobClient = clientOf(job);
    if (jobClient === undefined) return 0;
    if ((await store.getRecord(SWEPT, job.id)) !== null) return 0;
    const previous = stored[REPLY_ATTEMPT_KEY];
    const attempt = Math.max(job.attempts, typeof previous === 'number' ? previous : 0) + 1;
    let closed = 0;
    for (const [index, card] of sent.entries()) {
      try {
        const blank = index === 0 && reply.shows === 'thinking';
        // An answer that went out as text is not lost: the card points at it instead. In the
        // language the reply was written in (kept in its checkpoint).
        const say = textsFor(reply.language ?? 'en').watchdog;
        const shown = reply.mode === 'text' && job.status === 'done' ? say.sentAsText : say.unanswered;
        await closeCard(jobClient, card.cardId, attempt * SEQUENCES_PER_ATTEMPT + index + 1, blank ? shown : undefined);
        closed += 1;
      } catch (error) {
        log.warn(
          { err: errorMessage(error), jobId: job.id, cardId: card.cardId },
          'card watchdog could not close a card',
        );
      }
    }
    await store.putRecord(SWEPT, job.id, { at: Date.now(), closed }, MAX_RECORDS);
    log.warn({ jobId: job.id, cards: closed }, 'card watchdog closed the cards of an ended job');
    return closed;
  }

  async function sweep(): Promise<number> {
    let closed = 0;
    for (const status of ['done', 'dead'] satisfies JobStatus[]) {
      for (const job of await store.listJobs({ status, limit: lookback })) closed += await closeCards(job);
    }
    return closed;
  }

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      .catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'card watchdog pass failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();

  return { sweep, stop: () => clearInterval(timer) };
}

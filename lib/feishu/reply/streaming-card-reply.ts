import type { ReplySink } from '../../conversation/reply-sink.js';
import type { Language } from '../../i18n/language.js';
import { errorMessage } from '../../util/error-message.js';
import { sleep as realSleep } from '../../util/sleep.js';
import {
  type CardCheckpoint,
  CheckpointNotSavedError,
  cardCheckpoint,
  createCheckpointSaver,
} from './card-checkpoint.js';
import { type CardGoal, CardReplanError, createCardDeck } from './card-deck.js';
import type { CardControl } from './card-json.js';
import { createCardKitOperations } from './cardkit-operations.js';
import { createCoalescingWriter } from './coalescing-writer.js';
import type { CardMarkdownOptions } from './markdown.js';
import { REPLY_DEFAULTS, type ReplyOptions } from './reply-options.js';
import { resolveRetryPolicy, retryDelayFor } from './retry-policy.js';
import { renderStepsPanel, type StepsPanel } from './steps-panel.js';
import { createTextReply, type TextReplyFormat, withNotice } from './text-reply.js';

export interface StreamingCardReplyOptions extends ReplyOptions {
  /** A previous attempt's checkpoint: continue its cards. */
  checkpoint?: CardCheckpoint;
  saveCheckpoint?: (checkpoint: CardCheckpoint) => Promise<void>;
  /**
   * The job's attempt number (1-based). Card sequences are `attempt * 1_000_000 + n`, so a
   * resumed attempt's sequences are above everything an earlier attempt sent to the same card.
   */
  attempt?: number;
  /** Sequenced writes per card per second (`config.reply.cardUpdatesPerSecond`; Feishu allows 10). */
  updatesPerSecond?: number;
  /** Rendered markdown per card, in bytes of its JSON string; Feishu's card limit is 30 KB. */
  maxCardBytes?: number;
  /** An answer needing more cards than this is delivered as plain text instead. */
  maxCards?: number;
  /** What the card shows before the first words arrive. */
  thinkingText?: string;
  /** The language of the reply's own words, kept in the checkpoint for the card watchdog's notice. */
  language?: Language;
  /** Buttons under the answer while it streams (Stop); gone once the card is closed. */
  controls?: readonly CardControl[];
  /** Buttons under a finished answer (feedback): on the last card when `finish` closes it, not after `fail`. */
  finishControls?: readonly CardControl[];
  markdown?: Omit<CardMarkdownOptions, 'openFence'>;
  /** Format and reaction of the plain-text fallback. */
  textFallback?: { format?: TextReplyFormat; reaction?: string | false };
  /**
   * `JobContext.signal`. Aborted with reason `'lease-lost'`, another worker owns the job: the
   * sink stops writing at once and `finish` / `fail` return without touching the cards (that
   * attempt resumes them from the checkpoint and must not race this one). Any other reason
   * (`'shutdown'`, `'timeout'`) leaves the sink working, so the handler can still close the
   * card with a notice; the next attempt re-opens and continues it.
   */
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * A ReplySink that streams the answer into a Feishu CardKit card replying to the user's
 * message (in its thread), the way Feishu's own AI assistants do:
 *
 * - `start` creates a streaming card showing `thinkingText` and sends it as the reply (so the
 *   user sees it within a second), then saves a checkpoint.
 * - `update` only records the newest full text; one writer sends it with the FULL text, a
 *   strictly increasing `sequence`, at most `updatesPerSecond` writes per card and never two
 *   at once. Text that arrives meanwhile replaces older unsent text.
 * - Before a card would exceed `maxCardBytes` it is closed and a new card continues the answer
 *   (cut at a paragraph or line, not inside a code block when avoidable).
 * - `finish` writes the exact final text, closes streaming with a preview summary, and adds the
 *   summary footer. `fail` does the same with the partial text and a notice.
 * - Rate limits (230020, 99991400, HTTP 429) back off, honouring `x-ogw-ratelimit-reset`;
 *   300317 bumps the sequence; a closed stream is re-opened; an invalid token is refreshed;
 *   size limits roll over to a new card. When cards cannot be used at all (CardKit refused, or
 *   the final text cannot be written), the answer goes out as plain text messages.
 *
 * This is the sink's life cycle (start, update, finish, fail; card mode or the fallback to text;
 * interruption by a lost lease or a drain). The cards themselves are `card-deck.ts`, the Feishu
 * calls and their rules `cardkit-operations.ts`, what a job saves to resume `card-checkpoint.ts`.
 *
 * @example
 * const sink = createStreamingCardReply({
 *   client, bus, log, traceId: job.id, attempt: job.attempts,
 *   target: { messageId, chatId, replyInThread: Boolean(threadId) },
 *   idempotencyKey: context.idempotencyKey,
 *   checkpoint: parseCardCheckpoint(job.checkpoint),
 *   saveCheckpoint: (checkpoint) => context.saveCheckpoint(checkpoint),
 *   updatesPerSecond: config.reply.cardUpdatesPerSecond,
 * });
 * await sink.start();
 * for await (const text of fullTexts) sink.update(text);
 * await sink.finish(answer, 'gpt-4o · 812 tokens · 6.1 s');
 */
export function createStreamingCardReply({
  checkpoint,
  saveCheckpoint,
  attempt = 1,
  updatesPerSecond = 4,
  maxCardBytes = 24 * 1024,
  maxCards = 20,
  backoff,
  requestTimeoutMs = REPLY_DEFAULTS.requestTimeoutMs,
  thinkingText = '⏳ Thinking…',
  language,
  controls,
  finishControls,
  emptyText = REPLY_DEFAULTS.emptyText,
  markdown = {},
  textFallback = {},
  signal,
  now = Date.now,
  sleep = realSleep,
  ...wiring
}: StreamingCardReplyOptions): ReplySink {
  const { bus, log, traceId } = wiring;
  const retry = resolveRetryPolicy(backoff);
  const cardKit = createCardKitOperations({
    ...wiring,
    attempt,
    updatesPerSecond,
    requestTimeoutMs,
    retry,
    now,
    sleep,
  });
  const save = createCheckpointSaver({ saveCheckpoint, log, traceId });
  let mode: CardCheckpoint['mode'] = 'card';
  /** Every card was closed by this reply: the card watchdog leaves them alone. */
  let allClosed = false;
  const persist = (options?: { required?: boolean }) =>
    save(
      cardCheckpoint(
        mode,
        deck.cards.map(({ card, messageId }) => ({ cardId: card.cardId, messageId })),
        allClosed,
        deck.shows,
        language,
      ),
      options,
    );
  const deck = createCardDeck({
    cardKit,
    log,
    persist,
    maxCardBytes,
    maxCards,
    markdown,
    thinkingText,
    emptyText,
    ...(controls === undefined ? {} : { controls }),
    onRolledOver: ({ index, cardId, text }) => bus.emit({ type: 'reply.card', traceId, cardId, index, text }),
  });
  let textSink: ReplySink | undefined;
  let started = false;
  let finished = false;
  /** Cards can no longer be written; the end of the answer goes out as text. */
  let degraded = false;
  let latest: CardGoal = { text: '', final: false };
  /** The goal the cards last showed completely. */
  let synced: CardGoal | undefined;

  let offerFinal: () => void = () => {};
  const finalOffered = new Promise<void>((resolve) => {
    offerFinal = resolve;
  });
  const writer = createCoalescingWriter<CardGoal>({
    write: async (goal) => {
      await deck.sync(goal);
      synced = goal;
    },
    // The final text need not wait for the spacing between writes: it closes the card in one
    // urgent operation (see card-deck.ts), so a finished answer is shown at once.
    waitTurn: () => (latest.final ? Promise.resolve() : Promise.race([deck.ready(), finalOffered])),
    retryDelay: (error, failures) => {
      if (error instanceof CardReplanError) return failures <= retry.maxRetries ? 0 : undefined;
      const delay = retryDelayFor(error, failures, retry);
      if (delay !== undefined) log.debug({ err: error, failures, delay }, 'card write failed; retrying');
      return delay;
    },
    onGiveUp: (error) => {
      degraded = true;
      log.warn({ err: error, traceId }, 'card cannot be written; the answer will be sent as text');
    },
    sleep,
  });

  const abandoned = () => signal?.aborted === true && signal.reason === 'lease-lost';
  signal?.addEventListener(
    'abort',
    () => {
      if (!abandoned()) return;
      log.info({ traceId }, 'lease lost; the reply is left to the attempt that holds the job now');
      void writer.stop();
    },
    { once: true },
  );

  const switchToText = async (reason: unknown, withReaction: boolean) => {
    log.warn({ err: reason, traceId }, 'CardKit card unavailable; replying with plain text');
    // Marked in the trace: the rest of this answer is text messages, not a card.
    bus.emit({ type: 'reply.fallback', traceId, to: 'text', reason: errorMessage(reason).split('\n', 1)[0] ?? '' });
    mode = 'text';
    textSink = createTextReply({
      ...wiring,
      format: textFallback.format,
      reaction: withReaction ? (textFallback.reaction ?? 'Typing') : false,
      emptyText,
      backoff,
      requestTimeoutMs,
      sleep,
    });
    await persist();
    return textSink;
  };

  const complete = async (goal: CardGoal, failure?: { partialText: string; notice: string }) => {
    if (finished) return;
    finished = true;
    if (abandoned()) {
      await writer.stop();
      return;
    }
    const notice = failure?.notice;
    // Interrupted by a drain: the job is handed back and the next attempt continues this reply,
    // so a notice that cannot be shown in place is dropped rather than sent as another message.
    const interruptedByDrain = () => failure !== undefined && signal?.aborted === true && signal.reason === 'shutdown';
    if (!started) await start();
    if (mode === 'text' && textSink) {
      await writer.stop();
      if (interruptedByDrain()) {
        // The handed-back job answers later with the same text uuids: a notice sent now would
        // take the answer's uuid and Feishu would drop the real answer as a repeat.
        log.warn({ traceId }, 'interrupted in text mode: the next attempt sends the answer');
        return;
      }
      if (failure === undefined) await textSink.finish(goal.text, goal.footer);
      else await textSink.fail(failure.partialText, failure.notice);
      return;
    }
    if (!degraded) {
      latest = goal;
      offerFinal();
      writer.offer(goal);
      await writer.flush();
    }
    await writer.stop();
    if (synced === goal) {
      allClosed = true;
      await persist();
      bus.emit({
        type: 'reply.finished',
        traceId,
        mode: 'card',
        length: goal.text.length,
        cards: deck.cards.filter((card) => !card.recalled).length,
        text: goal.text,
        ...(notice === undefined ? {} : { notice }),
      });
      return;
    }
    if (interruptedByDrain()) {
      // The next attempt (maybe in another process already) continues these cards.
      log.warn({ traceId }, 'could not show the interruption notice; the next attempt continues the card');
      await deck.closeQuietly();
      return;
    }
    // The cards could not show the final text: it must still reach the user.
    await deck.closeQuietly();
    const fallback = await switchToText(new Error('final text could not be written to the card'), false);
    if (failure === undefined) await fallback.finish(goal.text, goal.footer);
    else await fallback.fail(failure.partialText, failure.notice);
  };

  async function start(): Promise<void> {
    if (started) return;
    started = true;
    if (checkpoint?.mode === 'text') {
      await (await switchToText(new Error('resumed after a fallback to text'), true)).start();
      return;
    }
    try {
      if (checkpoint && checkpoint.cards.length > 0) await deck.resume(checkpoint.cards);
      else await deck.open();
    } catch (error) {
      // The job fails and is retried: nothing was shown, so the next attempt starts clean. Plain
      // text now would be a second answer next to the card a later attempt sends.
      if (CheckpointNotSavedError.isInstance(error)) throw error;
      await (await switchToText(error, true)).start();
      return;
    }
    const first = deck.cards[0]!;
    bus.emit({
      type: 'reply.started',
      traceId,
      mode: 'card',
      cardId: first.card.cardId,
      ...(first.messageId === undefined ? {} : { messageId: first.messageId }),
    });
    if (latest.text !== '' || deck.cards.some((card) => card.shown === undefined)) writer.offer(latest);
  }

  /** The steps panel as it should look; kept apart so a text update does not drop it. */
  let steps: StepsPanel | undefined;
  const withSteps = (goal: CardGoal): CardGoal => (steps === undefined ? goal : { ...goal, steps });

  return {
    start,
    update(fullText) {
      if (finished || abandoned()) return;
      if (mode === 'text') {
        textSink?.update(fullText);
        return;
      }
      if (fullText === latest.text) return;
      latest = withSteps({ text: fullText, final: false });
      // Before start has shown the card, only remember it; start hands it to the writer.
      if (started && deck.cards.length > 0 && !degraded) writer.offer(latest);
    },
    progress(progress) {
      if (finished || abandoned() || mode === 'text') return;
      steps = renderStepsPanel(progress, language);
      latest = withSteps({ text: latest.text, final: false });
      if (started && deck.cards.length > 0 && !degraded) writer.offer(latest);
    },
    finish(finalText, summary) {
      return complete(
        withSteps({
          text: finalText,
          final: true,
          ...(summary === undefined ? {} : { footer: summary }),
          ...(finishControls === undefined ? {} : { controls: finishControls }),
        }),
      );
    },
    fail(partialText, notice) {
      return complete(withSteps({ text: withNotice(partialText, notice), final: true }), { partialText, notice });
    },
  };
}

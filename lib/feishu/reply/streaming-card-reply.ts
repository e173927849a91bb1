import type { ReplySink } from '../../conversation/reply-sink.js';
import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import { callFeishu, FeishuApiError } from '../call-feishu.js';
import type { FeishuClient } from '../feishu-client.js';
import { createCoalescingWriter } from './coalescing-writer.js';
import {
  type CardMarkdownOptions,
  createCardPlanner,
  previewSummary,
  renderCardMarkdown,
  renderSegment,
} from './markdown.js';
import { createRateGate, type RateGate, realSleep, type Sleep } from './rate-gate.js';
import {
  type BackoffOptions,
  type ReplyTarget,
  resolveBackoff,
  retryDelayFor,
  sendReply,
  withRetries,
} from './send-reply.js';
import { createTextReply, type TextReplyFormat, withNotice } from './text-reply.js';

/**
 * What a job saves so that a resumed attempt keeps writing into the cards the user already
 * sees instead of posting new ones. Plain JSON.
 */
export interface CardCheckpoint {
  kind: 'feishu-reply';
  version: 1;
  /** `text`: the reply fell back to plain messages; a resumed attempt does the same. */
  mode: 'card' | 'text';
  /** Cards in answer order; `messageId` is absent when the card was created but not yet sent. */
  cards: Array<{ cardId: string; messageId?: string }>;
}

/** Reads a checkpoint saved by this module; anything else (or nothing) gives undefined. */
export function parseCardCheckpoint(value: unknown): CardCheckpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.kind !== 'feishu-reply' || record.version !== 1) return undefined;
  if (record.mode !== 'card' && record.mode !== 'text') return undefined;
  if (!Array.isArray(record.cards)) return undefined;
  const cards: CardCheckpoint['cards'] = [];
  for (const entry of record.cards as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const card = entry as Record<string, unknown>;
    if (typeof card.cardId !== 'string' || card.cardId === '') return undefined;
    if (card.messageId !== undefined && typeof card.messageId !== 'string') return undefined;
    cards.push(
      typeof card.messageId === 'string' ? { cardId: card.cardId, messageId: card.messageId } : { cardId: card.cardId },
    );
  }
  return { kind: 'feishu-reply', version: 1, mode: record.mode, cards };
}

export interface StreamingCardReplyOptions {
  client: FeishuClient;
  bus: EventBus;
  log: Logger;
  target: ReplyTarget;
  /** Groups this reply's events with the rest of the job (the inbox job id). */
  traceId: string;
  /** `JobContext.idempotencyKey`: the same for every attempt of the job, so a resume never posts twice. */
  idempotencyKey: (part: string) => string;
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
  backoff?: BackoffOptions;
  /** Per-call timeout (the SDK has none). */
  requestTimeoutMs?: number;
  /** What the card shows before the first words arrive. */
  thinkingText?: string;
  /** Shown for an empty answer (a card element cannot be empty). */
  emptyText?: string;
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
  sleep?: Sleep;
}

/** The markdown element every card streams into. */
export const ANSWER_ELEMENT_ID = 'answer';
export const FOOTER_ELEMENT_ID = 'footer';

/** Streaming was closed by Feishu (about 10 minutes after it opened) or by settings. */
const STREAMING_CLOSED_CODES: ReadonlySet<number> = new Set([200850, 300309]);
/** The card or element is over a size/element limit: make cards smaller and roll over. */
const CARD_LIMIT_CODES: ReadonlySet<number> = new Set([11310, 230099, 200860]);
const SEQUENCE_CODE = 300317;
const MIN_CARD_BYTES = 2048;

interface CardSlot {
  index: number;
  cardId: string;
  messageId: string | undefined;
  /** Rendered content the card shows; undefined when unknown (adopted from a checkpoint). */
  shown: string | undefined;
  /** Streaming mode as far as we know; undefined when unknown. */
  streaming: boolean | undefined;
  /** The footer the card shows, once the final card JSON with it was written. */
  footer: string | undefined;
  /** Sequenced operations sent in this attempt. */
  operations: number;
  /** Its message was recalled (an answer that ended shorter than an earlier text). */
  recalled: boolean;
  gate: RateGate;
}

interface SyncTarget {
  text: string;
  final: boolean;
  footer?: string;
}

/** The first card's id could not be saved in the job checkpoint, so the card was not sent. */
export class CheckpointNotSavedError extends Error {
  readonly code = 'REPLY_CHECKPOINT_NOT_SAVED';
  constructor(cause: unknown) {
    super(`reply checkpoint not saved, card not sent: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'CheckpointNotSavedError';
  }
  static isInstance(error: unknown): error is CheckpointNotSavedError {
    return error instanceof Error && (error as { code?: unknown }).code === 'REPLY_CHECKPOINT_NOT_SAVED';
  }
}

/** Thrown inside a sync to re-plan the cards right away (after shrinking the card size). */
class ReplanError extends Error {
  override readonly name = 'ReplanError';
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
  client,
  bus,
  log,
  target,
  traceId,
  idempotencyKey,
  checkpoint,
  saveCheckpoint,
  attempt = 1,
  updatesPerSecond = 4,
  maxCardBytes = 24 * 1024,
  maxCards = 20,
  backoff: backoffOptions,
  requestTimeoutMs = 10_000,
  thinkingText = '⏳ Thinking…',
  emptyText = '…',
  markdown = {},
  textFallback = {},
  signal,
  now = Date.now,
  sleep = realSleep,
}: StreamingCardReplyOptions): ReplySink {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 2000) {
    throw new RangeError(`attempt must be an integer from 1 to 2000 (sequence is attempt * 1e6 + n), got ${attempt}`);
  }
  const backoff = resolveBackoff(backoffOptions);
  const sequenceBase = attempt * 1_000_000;
  const cards: CardSlot[] = [];
  let cardBytes = Math.max(MIN_CARD_BYTES, maxCardBytes);
  // Incremental: cards already full are not re-planned on every update of a long answer.
  let planner = createCardPlanner({ maxBytes: cardBytes, ...markdown });
  let mode: 'card' | 'text' = 'card';
  let textSink: ReplySink | undefined;
  let started = false;
  let finished = false;
  /** Cards can no longer be written; the end of the answer goes out as text. */
  let degraded = false;
  let latest: SyncTarget = { text: '', final: false };
  let synced: SyncTarget | undefined;

  const call = <T extends { code?: number; msg?: string } | undefined>(api: string, fn: () => Promise<T>) =>
    callFeishu(bus, api, fn, { client, timeoutMs: requestTimeoutMs });

  const newSlot = (index: number, cardId: string, messageId?: string): CardSlot => ({
    index,
    cardId,
    messageId,
    shown: undefined,
    streaming: undefined,
    footer: undefined,
    operations: 0,
    recalled: false,
    gate: createRateGate({ perSecond: updatesPerSecond, now, sleep }),
  });

  /**
   * `required`: the caller must not show the card unless its id is saved. The first card is sent
   * with a uuid that is the same on every attempt, so if it were shown without a checkpoint (the
   * store down), a resumed attempt would open a new card, its send would be absorbed by that uuid,
   * and the card the user sees would stay half-written forever.
   */
  const persist = async ({ required = false }: { required?: boolean } = {}) => {
    if (!saveCheckpoint) return;
    const saved: CardCheckpoint = {
      kind: 'feishu-reply',
      version: 1,
      mode,
      cards: cards.map((card) =>
        card.messageId === undefined ? { cardId: card.cardId } : { cardId: card.cardId, messageId: card.messageId },
      ),
    };
    try {
      await saveCheckpoint(saved);
    } catch (error) {
      if (required) throw new CheckpointNotSavedError(error);
      // A lost checkpoint only risks a second card after a crash; the answer matters more.
      log.warn({ err: error, traceId }, 'could not save the reply checkpoint');
    }
  };

  /**
   * One sequenced CardKit operation on a card: through its rate gate (one at a time, at most
   * `updatesPerSecond`), with a fresh sequence; 300317 bumps the sequence and retries.
   */
  const sequenced = async (card: CardSlot, api: string, operation: (sequence: number) => Promise<unknown>) => {
    for (let bumps = 0; ; bumps++) {
      card.operations += bumps === 0 ? 1 : 10 ** bumps;
      const sequence = sequenceBase + card.operations;
      try {
        await card.gate.run(() =>
          call(api, () => operation(sequence) as Promise<{ code?: number; msg?: string } | undefined>),
        );
        return sequence;
      } catch (error) {
        if (FeishuApiError.isInstance(error) && error.code === SEQUENCE_CODE && bumps < 3) continue;
        if (FeishuApiError.isInstance(error) && error.rateLimited) {
          card.gate.pauseUntil(now() + (error.retryAfterMs ?? backoff.initialMs));
        }
        throw error;
      }
    }
  };

  const setStreaming = async (card: CardSlot, on: boolean, summary?: string) => {
    const config: Record<string, unknown> = { streaming_mode: on };
    if (summary !== undefined) config.summary = { content: summary };
    await sequenced(card, 'cardkit.v1.card.settings', (sequence) =>
      client.cardkit.v1.card.settings({
        path: { card_id: card.cardId },
        data: { settings: JSON.stringify({ config }), sequence },
      }),
    );
    card.streaming = on;
  };

  const setContent = async (card: CardSlot, content: string) => {
    for (let reopened = 0; ; reopened++) {
      if (card.streaming !== true) await setStreaming(card, true);
      try {
        const sequence = await sequenced(card, 'cardkit.v1.cardElement.content', (sequenceNumber) =>
          client.cardkit.v1.cardElement.content({
            path: { card_id: card.cardId, element_id: ANSWER_ELEMENT_ID },
            data: { content, sequence: sequenceNumber },
          }),
        );
        card.shown = content;
        card.footer = undefined;
        bus.emit({ type: 'reply.update', traceId, cardId: card.cardId, sequence, length: content.length });
        return;
      } catch (error) {
        if (!FeishuApiError.isInstance(error) || error.code === undefined) throw error;
        if (STREAMING_CLOSED_CODES.has(error.code) && reopened < 2) {
          // Streaming closes itself after about 10 minutes; open it again and carry on.
          card.streaming = false;
          continue;
        }
        if (CARD_LIMIT_CODES.has(error.code) && cardBytes > MIN_CARD_BYTES) {
          cardBytes = Math.max(MIN_CARD_BYTES, Math.floor(cardBytes * 0.7));
          planner = createCardPlanner({ maxBytes: cardBytes, ...markdown });
          log.warn({ code: error.code, cardBytes }, 'card refused the content size; rolling over to smaller cards');
          throw new ReplanError('card size limit');
        }
        throw error;
      }
    }
  };

  const cardJson = ({
    content,
    streaming,
    summary,
    footer,
  }: {
    content: string;
    streaming: boolean;
    summary: string;
    footer?: string;
  }) => {
    const elements: Array<Record<string, unknown>> = [{ tag: 'markdown', element_id: ANSWER_ELEMENT_ID, content }];
    if (footer !== undefined) {
      elements.push({
        tag: 'markdown',
        element_id: FOOTER_ELEMENT_ID,
        text_size: 'notation',
        content: renderCardMarkdown(footer, markdown),
      });
    }
    return JSON.stringify({
      schema: '2.0',
      config: {
        streaming_mode: streaming,
        summary: { content: summary },
        streaming_config: {
          print_frequency_ms: { default: 30 },
          print_step: { default: 2 },
          print_strategy: 'fast',
        },
      },
      body: { elements },
    });
  };

  const sendCard = async (card: CardSlot) => {
    card.messageId = await sendReply({
      client,
      bus,
      log,
      target,
      msgType: 'interactive',
      content: JSON.stringify({ type: 'card', data: { card_id: card.cardId } }),
      uuid: idempotencyKey(`card-${card.index}`),
      chatUuid: idempotencyKey(`card-${card.index}-chat`),
      timeoutMs: requestTimeoutMs,
      backoff,
      sleep,
    });
    await persist();
  };

  /** Creates card `index` showing `content`, saves it, then sends it as a reply. */
  const openCard = async (index: number, content: string, summary: string) => {
    const body = await withRetries(
      () =>
        call('cardkit.v1.card.create', () =>
          client.cardkit.v1.card.create({
            data: { type: 'card_json', data: cardJson({ content, streaming: true, summary }) },
          }),
        ),
      { backoff, sleep },
    );
    const cardId = body?.data?.card_id;
    if (!cardId)
      throw new FeishuApiError({ api: 'cardkit.v1.card.create', message: 'card.create answered without a card_id' });
    const card = newSlot(index, cardId);
    card.shown = content;
    card.streaming = true;
    cards.push(card);
    // Saved before it is sent: a crash in between resends this card with the same uuid.
    await persist({ required: index === 0 });
    await sendCard(card);
    return card;
  };

  const closeCard = async (card: CardSlot, content: string, raw: string, footer: string | undefined) => {
    const summary = previewSummary(raw) || emptyText;
    if (footer === undefined) {
      await setStreaming(card, false, summary);
      return;
    }
    // The footer is a second element: replace the whole card (final text + footer, streaming off).
    await sequenced(card, 'cardkit.v1.card.update', (sequence) =>
      client.cardkit.v1.card.update({
        path: { card_id: card.cardId },
        data: { card: { type: 'card_json', data: cardJson({ content, streaming: false, summary, footer }) }, sequence },
      }),
    );
    card.streaming = false;
    card.footer = footer;
  };

  /** Recalls the message showing a card nobody needs any more; false when Feishu refuses. */
  const recall = async (card: CardSlot): Promise<boolean> => {
    const messageId = card.messageId;
    if (messageId === undefined) return false;
    try {
      await call('im.v1.message.delete', () => client.im.v1.message.delete({ path: { message_id: messageId } }));
      card.recalled = true;
      return true;
    } catch (error) {
      if (FeishuApiError.isInstance(error) && error.transient) throw error;
      log.debug({ err: error, messageId }, 'could not recall a left-over card; closing it blank instead');
      return false;
    }
  };

  /** Brings the cards to show `goal`: the only place that writes cards after `start`. */
  const sync = async (goal: SyncTarget) => {
    const segments = planner.plan(goal.text);
    if (segments.length > maxCards) {
      throw new FeishuApiError({ api: 'reply', message: `answer needs ${segments.length} cards (max ${maxCards})` });
    }
    for (const [index, segment] of segments.entries()) {
      const raw = goal.text.slice(segment.start, segment.end);
      const content = renderSegment(goal.text, segment, markdown) || (goal.final ? emptyText : thinkingText);
      const last = index === segments.length - 1;
      let card = cards[index];
      if (!card) {
        card = await openCard(index, content, last && !goal.final ? thinkingText : previewSummary(raw) || emptyText);
      } else {
        if (card.messageId === undefined) await sendCard(card);
        if (card.shown !== content) await setContent(card, content);
      }
      if (!last || goal.final) {
        const footer = last && goal.final ? goal.footer : undefined;
        if (card.streaming !== false || card.footer !== footer) await closeCard(card, content, raw, footer);
      }
    }
    // Cards left over from a longer earlier text (a resumed attempt, or a model that started
    // over, answered shorter): blank while streaming; recalled at the end, or closed blank.
    for (const card of cards.slice(segments.length)) {
      if (card.recalled) continue;
      if (goal.final && card.messageId !== undefined && (await recall(card))) continue;
      if (card.shown !== emptyText) await setContent(card, emptyText);
      if (goal.final && card.streaming !== false) await setStreaming(card, false, emptyText);
    }
    synced = goal;
  };

  const writer = createCoalescingWriter<SyncTarget>({
    write: sync,
    waitTurn: () => cards.at(-1)?.gate.ready() ?? Promise.resolve(),
    retryDelay: (error, failures) => {
      if (error instanceof ReplanError) return failures <= backoff.maxRetries ? 0 : undefined;
      const delay = retryDelayFor(error, failures, backoff);
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
    mode = 'text';
    textSink = createTextReply({
      client,
      bus,
      log,
      target,
      traceId,
      idempotencyKey,
      format: textFallback.format,
      reaction: withReaction ? (textFallback.reaction ?? 'Typing') : false,
      emptyText,
      backoff: backoffOptions,
      requestTimeoutMs,
      sleep,
    });
    await persist();
    return textSink;
  };

  /** Best effort: no typing cursor left on cards that could not take the final text. */
  const closeCardsQuietly = async () => {
    for (const card of cards) {
      if (card.streaming === false || card.messageId === undefined) continue;
      try {
        await setStreaming(card, false, emptyText);
      } catch (error) {
        log.debug({ err: error, cardId: card.cardId }, 'could not close the card');
      }
    }
  };

  const complete = async (goal: SyncTarget, failure?: { partialText: string; notice: string }) => {
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
      writer.offer(goal);
      await writer.flush();
    }
    await writer.stop();
    if (synced === goal) {
      bus.emit({
        type: 'reply.finished',
        traceId,
        mode: 'card',
        length: goal.text.length,
        cards: cards.filter((card) => !card.recalled).length,
        ...(notice === undefined ? {} : { notice }),
      });
      return;
    }
    if (interruptedByDrain()) {
      // The next attempt (maybe in another process already) continues these cards.
      log.warn({ traceId }, 'could not show the interruption notice; the next attempt continues the card');
      await closeCardsQuietly();
      return;
    }
    // The cards could not show the final text: it must still reach the user.
    await closeCardsQuietly();
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
      if (checkpoint && checkpoint.cards.length > 0) {
        for (const [index, saved] of checkpoint.cards.entries())
          cards.push(newSlot(index, saved.cardId, saved.messageId));
        for (const card of cards) if (card.messageId === undefined) await sendCard(card);
      } else {
        await openCard(0, thinkingText, thinkingText);
      }
    } catch (error) {
      // The job fails and is retried: nothing was shown, so the next attempt starts clean. Plain
      // text now would be a second answer next to the card a later attempt sends.
      if (CheckpointNotSavedError.isInstance(error)) throw error;
      await (await switchToText(error, true)).start();
      return;
    }
    const first = cards[0]!;
    bus.emit({
      type: 'reply.started',
      traceId,
      mode: 'card',
      cardId: first.cardId,
      ...(first.messageId === undefined ? {} : { messageId: first.messageId }),
    });
    if (latest.text !== '' || cards.some((card) => card.shown === undefined)) writer.offer(latest);
  }

  return {
    start,
    update(fullText) {
      if (finished || abandoned()) return;
      if (mode === 'text') {
        textSink?.update(fullText);
        return;
      }
      if (fullText === latest.text) return;
      latest = { text: fullText, final: false };
      // Before start has shown the card, only remember it; start hands it to the writer.
      if (started && cards.length > 0 && !degraded) writer.offer(latest);
    },
    finish(finalText, summary) {
      return complete(
        summary === undefined ? { text: finalText, final: true } : { text: finalText, final: true, footer: summary },
      );
    },
    fail(partialText, notice) {
      return complete({ text: withNotice(partialText, notice), final: true }, { partialText, notice });
    },
  };
}

import type { Sleep } from '../../util/sleep.js';
import { callFeishu, FeishuApiError } from '../call-feishu.js';
import { ANSWER_ELEMENT_ID } from './card-json.js';
import { createRateGate, type RateGate } from './rate-gate.js';
import type { ReplyWiring } from './reply-options.js';
import { type RetryPolicy, withRetries } from './retry-policy.js';
import { sendReply } from './send-reply.js';

/** Streaming was closed by Feishu (about 10 minutes after it opened) or by settings. */
const STREAMING_CLOSED_CODES: ReadonlySet<number> = new Set([200850, 300309]);
/** The card or element is over a size/element limit. */
const CARD_LIMIT_CODES: ReadonlySet<number> = new Set([11310, 230099, 200860, 300305]);
/** The sequence was not above the card's last one. */
const SEQUENCE_CODE = 300317;
/** Sequences are `attempt * SEQUENCES_PER_ATTEMPT + n`. */
export const SEQUENCES_PER_ATTEMPT = 1_000_000;
const MAX_ATTEMPT = 2000;

/** Feishu refused a write because the card is over its size or element limit. */
export function isCardLimitError(error: unknown): error is FeishuApiError {
  return FeishuApiError.isInstance(error) && error.code !== undefined && CARD_LIMIT_CODES.has(error.code);
}

/** One card: every write to it is sequenced and rate-limited. */
export interface CardHandle {
  readonly cardId: string;
  /** Streaming mode as far as this attempt knows; undefined for a card adopted from a checkpoint. */
  readonly streaming: boolean | undefined;
  /** `card.settings`: turns streaming on or off, optionally with the chat-list preview. */
  setStreaming(on: boolean, summary?: string): Promise<void>;
  /**
   * `cardElement.content` on the answer element with the FULL text; re-opens the stream first
   * when it is (or Feishu says it is) closed. Reports `reply.update`.
   */
  setAnswer(content: string): Promise<void>;
  /** The same for another markdown element of the card (the steps panel's list); no `reply.update`. */
  setText(elementId: string, content: string): Promise<void>;
  /**
   * `card.update`: replaces the whole card (`buildCardJson`) and so its streaming mode. Closing
   * (`streaming` false) is urgent: it skips the gate's spacing, not its per-second window.
   */
  replace(cardJson: string, streaming: boolean): Promise<void>;
  /** Resolves when a write started now would be allowed. */
  ready(): Promise<void>;
}

export interface CardKitOperations {
  /** `card.create` (retried while transient): a new card from `buildCardJson`, streaming. */
  create(cardJson: string): Promise<CardHandle>;
  /** A card an earlier attempt created; its streaming mode is unknown. */
  adopt(cardId: string): CardHandle;
  /** Sends the card as the reply; `index` keeps each card's message uuid stable across attempts. */
  send(card: CardHandle, index: number): Promise<string>;
  /**
   * Recalls (deletes) the message showing a card nobody needs any more. False when Feishu
   * refuses for good; a transient failure is thrown so the caller retries.
   */
  recall(messageId: string): Promise<boolean>;
}

export interface CardKitOperationsOptions extends ReplyWiring {
  /** The job's attempt number (1-based): its sequences are above every earlier attempt's. */
  attempt: number;
  /** Sequenced writes per card per second (Feishu allows 10). */
  updatesPerSecond: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  now: () => number;
  sleep: Sleep;
}

/**
 * The Feishu calls a streaming card reply makes, with CardKit's rules built in: a strictly
 * increasing `sequence` per card (`attempt * 1e6 + n`, so a resumed attempt is above everything
 * an earlier one sent; 300317 moves it further up), at most `updatesPerSecond` writes per card
 * and never two at once, a rate-limited card paused for the time Feishu asked, and a stream that
 * closed itself (after about 10 minutes) opened again before writing.
 *
 * @example
 * const cardKit = createCardKitOperations({ client, bus, log, target, traceId, idempotencyKey,
 *   attempt: 1, updatesPerSecond: 4, requestTimeoutMs: 10_000, retry, now: Date.now, sleep });
 * const card = await cardKit.create(buildCardJson({ body: { text: '…' }, streaming: true, summary: '…' }));
 * await cardKit.send(card, 0);
 * await card.setAnswer('Hello');
 * await card.setStreaming(false, 'Hello');
 */
export function createCardKitOperations({
  client,
  bus,
  log,
  target,
  traceId,
  idempotencyKey,
  attempt,
  updatesPerSecond,
  requestTimeoutMs,
  retry,
  now,
  sleep,
}: CardKitOperationsOptions): CardKitOperations {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPT) {
    throw new RangeError(
      `attempt must be an integer from 1 to ${MAX_ATTEMPT} (sequence is attempt * 1e6 + n), got ${attempt}`,
    );
  }
  const sequenceBase = attempt * SEQUENCES_PER_ATTEMPT;
  const call = <T extends { code?: number; msg?: string } | undefined>(api: string, fn: () => Promise<T>) =>
    callFeishu(bus, api, fn, { client, timeoutMs: requestTimeoutMs });

  const handle = (cardId: string, initiallyStreaming: boolean | undefined): CardHandle => {
    const gate: RateGate = createRateGate({ perSecond: updatesPerSecond, now, sleep });
    /** Sequenced operations sent in this attempt. */
    let operations = 0;
    let streaming = initiallyStreaming;

    /** One sequenced operation: through the gate, with a fresh sequence; 300317 bumps it. */
    const sequenced = async (api: string, operation: (sequence: number) => Promise<unknown>, urgent = false) => {
      for (let bumps = 0; ; bumps++) {
        operations += bumps === 0 ? 1 : 10 ** bumps;
        const sequence = sequenceBase + operations;
        try {
          await gate.run(
            () => call(api, () => operation(sequence) as Promise<{ code?: number; msg?: string } | undefined>),
            { urgent },
          );
          return sequence;
        } catch (error) {
          if (FeishuApiError.isInstance(error) && error.code === SEQUENCE_CODE && bumps < 3) continue;
          if (FeishuApiError.isInstance(error) && error.rateLimited) {
            gate.pauseUntil(now() + (error.retryAfterMs ?? retry.initialMs));
          }
          throw error;
        }
      }
    };

    /** `cardElement.content` with the FULL text; re-opens the stream when it is (or Feishu says it is) closed. */
    const writeText = async (elementId: string, content: string): Promise<number> => {
      for (let reopened = 0; ; reopened++) {
        if (streaming !== true) await card.setStreaming(true);
        try {
          return await sequenced('cardkit.v1.cardElement.content', (sequenceNumber) =>
            client.cardkit.v1.cardElement.content({
              path: { card_id: cardId, element_id: elementId },
              data: { content, sequence: sequenceNumber },
            }),
          );
        } catch (error) {
          const closed =
            FeishuApiError.isInstance(error) && error.code !== undefined && STREAMING_CLOSED_CODES.has(error.code);
          if (!closed || reopened >= 2) throw error;
          // Streaming closes itself after about 10 minutes; open it again and carry on.
          streaming = false;
        }
      }
    };

    const card: CardHandle = {
      cardId,
      get streaming() {
        return streaming;
      },
      async setStreaming(on, summary) {
        const config: Record<string, unknown> = { streaming_mode: on };
        if (summary !== undefined) config.summary = { content: summary };
        await sequenced('cardkit.v1.card.settings', (sequence) =>
          client.cardkit.v1.card.settings({
            path: { card_id: cardId },
            data: { settings: JSON.stringify({ config }), sequence },
          }),
        );
        streaming = on;
      },
      async setAnswer(content) {
        const sequence = await writeText(ANSWER_ELEMENT_ID, content);
        bus.emit({ type: 'reply.update', traceId, cardId, sequence, length: content.length });
      },
      async setText(elementId, content) {
        await writeText(elementId, content);
      },
      async replace(cardJson, on) {
        await sequenced(
          'cardkit.v1.card.update',
          (sequence) =>
            client.cardkit.v1.card.update({
              path: { card_id: cardId },
              data: { card: { type: 'card_json', data: cardJson }, sequence },
            }),
          !on,
        );
        streaming = on;
      },
      ready: () => gate.ready(),
    };
    return card;
  };

  return {
    async create(cardJson) {
      const body = await withRetries(
        () =>
          call('cardkit.v1.card.create', () =>
            client.cardkit.v1.card.create({ data: { type: 'card_json', data: cardJson } }),
          ),
        { policy: retry, sleep },
      );
      const cardId = body?.data?.card_id;
      if (!cardId) {
        throw new FeishuApiError({ api: 'cardkit.v1.card.create', message: 'card.create answered without a card_id' });
      }
      return handle(cardId, true);
    },
    adopt: (cardId) => handle(cardId, undefined),
    send: (card, index) =>
      sendReply({
        client,
        bus,
        log,
        target,
        msgType: 'interactive',
        content: JSON.stringify({ type: 'card', data: { card_id: card.cardId } }),
        uuid: idempotencyKey(`card-${index}`),
        chatUuid: idempotencyKey(`card-${index}-chat`),
        timeoutMs: requestTimeoutMs,
        retry,
        sleep,
      }),
    async recall(messageId) {
      try {
        await call('im.v1.message.delete', () => client.im.v1.message.delete({ path: { message_id: messageId } }));
        return true;
      } catch (error) {
        if (FeishuApiError.isInstance(error) && error.transient) throw error;
        log.debug({ err: error, messageId }, 'could not recall a left-over card; closing it blank instead');
        return false;
      }
    },
  };
}

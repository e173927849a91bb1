import { type CardEntity, cardStore } from './card-store.js';
import { defineFeishuArea, type FakeFeishu, type FeishuApiName, type FeishuRequest } from './core.js';
import { IM_CODES, messageStore } from './message-store.js';
import { fail, isReply, ok, type Reply } from './reply.js';
import { byteLength, HISTORY_LIMIT, isRecord, parseJson, pushBounded } from './util.js';

/**
 * CardKit: `cardkit/v1/cards` create / settings / update, and elements update / patch / streamed
 * `content`. Every change after create is sequenced: a strictly increasing `sequence` per card
 * (else 300317), a repeated `uuid` is a replay, and at most 10 updates/s per card (230020 with
 * `x-ogw-ratelimit-reset`). Streaming mode closes itself after `streamingTimeoutMs`.
 *
 * Error codes follow the CardKit documentation's table (200740, 200850, 200860, 300309, 300310,
 * 300317, all HTTP 400).
 */

declare module './core.js' {
  interface FeishuApis {
    'cardkit.card.create': true;
    'cardkit.card.settings': true;
    'cardkit.card.update': true;
    'cardkit.cardElement.content': true;
    'cardkit.cardElement.update': true;
    'cardkit.cardElement.patch': true;
  }
  interface FakeFeishuOptions {
    /**
     * CardKit limit of sequenced updates per card per second. Default `{ perSecond: 10, reject: true }`.
     * `reject: false` only records violations; `false` turns the check off.
     */
    cardUpdateRateLimit?: { perSecond: number; reject: boolean } | false;
  }
  interface FakeFeishu {
    cardState(cardId: string): CardState | undefined;
    /** The card state behind an interactive message that references a CardKit card. */
    cardForMessage(messageId: string): CardState | undefined;
    cards(): CardState[];
  }
}

export const CARDKIT_CODES = {
  /** CardKit generic parameter error (documented). */
  invalidParameter: 10002,
  cardNotFound: 200740,
  uuidConflict: 200770,
  cardJsonInvalid: 200220,
  /** Card JSON over 30 KB (cardkit-v1 card.create error codes: "Card content exceeds limit."). */
  cardTooLarge: 200860,
  /** More than 200 components and elements in one card (documented with card.create). */
  tooManyElements: 300305,
  /** Too many tables in one card (Feishu renders at most `MAX_CARD_TABLES`; the issue names 11310). */
  tooManyTables: 11310,
  /** Streaming closed itself after the streaming timeout (about 10 minutes). */
  streamingTimeout: 200850,
  /** Streaming mode is off (closed by settings). */
  streamingClosed: 300309,
  /** Streaming content update on an element that is not markdown/plain_text. */
  onlyUpdateText: 300310,
  /** `sequence` not strictly greater than the card's last accepted sequence. */
  sequenceNotIncreasing: 300317,
} as const;

export interface CardElementState {
  tag: string;
  /** Current `content` for markdown/plain_text elements (undefined for other tags). */
  content: string | undefined;
  /** Every accepted streamed content, oldest first (bounded). */
  contentHistory: string[];
}

export interface CardState {
  cardId: string;
  /** True while streaming_mode is on and the streaming timeout has not passed. */
  streaming: boolean;
  /** Why streaming is off: closed by settings/full update, timed out, or never on. */
  streamingClosedBy: 'settings' | 'timeout' | 'never-opened' | undefined;
  /** The current card JSON (schema 2.0) with every accepted update applied. */
  card: Record<string, unknown>;
  elements: Record<string, CardElementState>;
  /** Last accepted sequence (0 before any). */
  sequence: number;
  /** Accepted sequences in order, for every sequenced operation. */
  sequenceHistory: number[];
  /** Sequences that were rejected with 300317. */
  rejectedSequences: number[];
  /** Fake-clock ms of every accepted sequenced operation. */
  updateTimes: number[];
  /** The message that shows this card, once sent. */
  messageId: string | undefined;
  createdAt: number;
}

const CARD_LIMIT_BYTES = 30 * 1024;
/** Components plus elements one schema 2.0 card may hold. */
export const MAX_CARD_ELEMENTS = 200;

/** Every object with a `tag` in the card's body: Feishu counts components and elements alike. */
function countElements(node: unknown): number {
  if (Array.isArray(node)) return node.reduce<number>((sum, item) => sum + countElements(item), 0);
  if (!isRecord(node)) return 0;
  let count = typeof node.tag === 'string' ? 1 : 0;
  for (const value of Object.values(node)) count += countElements(value);
  return count;
}

/** The card's JSON size in bytes with one markdown element's content replaced. */
function cardBytesWith(card: Record<string, unknown>, elementId: string, content: string): number {
  const replace = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(replace);
    if (!isRecord(node)) return node;
    if (node.element_id === elementId && typeof node.content === 'string') return { ...node, content };
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, replace(value)]));
  };
  return byteLength(JSON.stringify(replace(card)));
}
const ELEMENT_CONTENT_MAX_CHARS = 100_000;

/** Markdown tables one card may hold; a card with more is refused with `tooManyTables`. */
export const MAX_CARD_TABLES = 5;

/** A markdown table's delimiter row, e.g. `|---|:--:|` or `--- | ---`. */
const TABLE_DELIMITER = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/;

/** Markdown tables in the card's markdown elements (code blocks excluded), with `override` for one element's content. */
function countTables(card: Record<string, unknown>, override?: { elementId: string; content: string }): number {
  let tables = 0;
  const countIn = (text: string) => {
    let inCode = false;
    for (const line of text.split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) inCode = !inCode;
      else if (!inCode && TABLE_DELIMITER.test(line)) tables++;
    }
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isRecord(node)) return;
    if (node.tag === 'markdown') {
      const content =
        override !== undefined && node.element_id === override.elementId ? override.content : node.content;
      if (typeof content === 'string') countIn(content);
      return;
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(card.body);
  return tables;
}

export const cardkitArea = defineFeishuArea({
  name: 'cardkit',
  codes: CARDKIT_CODES,
  install(core): Pick<FakeFeishu, 'cardState' | 'cardForMessage' | 'cards'> {
    const { cardUpdateRateLimit = { perSecond: 10, reject: true } } = core.options;
    const { cards, isStreaming } = core.use(cardStore);
    const { messages } = core.use(messageStore);

    function parseCardJson(data: unknown): { card: Record<string, unknown> } | Reply {
      if (typeof data !== 'string' || data === '') return fail(CARDKIT_CODES.invalidParameter, 'card data is required');
      if (byteLength(data) > CARD_LIMIT_BYTES) return fail(CARDKIT_CODES.cardTooLarge, 'Card content exceeds limit.');
      const parsed = parseJson(data);
      if (!parsed.ok || !isRecord(parsed.value))
        return fail(CARDKIT_CODES.cardJsonInvalid, 'Failed to generate card content');
      if (parsed.value.schema !== '2.0') {
        return fail(CARDKIT_CODES.cardJsonInvalid, 'CardKit only supports card JSON schema 2.0');
      }
      if (countTables(parsed.value) > MAX_CARD_TABLES) {
        return fail(CARDKIT_CODES.tooManyTables, 'card table number over limit');
      }
      if (countElements(parsed.value.body) > MAX_CARD_ELEMENTS) {
        return fail(CARDKIT_CODES.tooManyElements, 'The number of card components exceeds 200');
      }
      return { card: parsed.value };
    }

    function setCard(entity: CardEntity, card: Record<string, unknown>, closedBy: 'settings' | 'never-opened'): void {
      entity.card = card;
      entity.elementIndex = indexElements(card);
      applyStreamingMode(entity, isRecord(card.config) && card.config.streaming_mode === true, closedBy);
    }

    /** A whole-card update shows its text elements' new content as a content write would. */
    function recordContents(entity: CardEntity): void {
      for (const [elementId, element] of entity.elementIndex) {
        if (typeof element.content !== 'string') continue;
        const history = entity.contentHistory.get(elementId) ?? [];
        if (history.at(-1) !== element.content) pushBounded(history, element.content, HISTORY_LIMIT);
        entity.contentHistory.set(elementId, history);
      }
    }

    function applyStreamingMode(entity: CardEntity, on: boolean, closedBy: 'settings' | 'never-opened'): void {
      if (on) {
        // Turning it on (again) restarts the timeout; leaving it on keeps the original start.
        if (entity.streamingOpenedAt === undefined || !isStreaming(entity)) entity.streamingOpenedAt = core.now();
        entity.streamingClosedBy = undefined;
      } else {
        if (entity.streamingOpenedAt !== undefined) entity.streamingClosedBy = 'settings';
        else entity.streamingClosedBy ??= closedBy;
        entity.streamingOpenedAt = undefined;
      }
    }

    /**
     * Common gate of every sequenced CardKit operation: card exists, per-card rate limit,
     * uuid replay, strictly increasing sequence. Returns the entity, or the reply to send.
     */
    function sequenced(
      api: FeishuApiName,
      cardId: string | undefined,
      body: Record<string, unknown>,
    ): { entity: CardEntity; replay: boolean } | Reply {
      const entity = cardId ? cards.get(cardId) : undefined;
      if (!entity) return fail(CARDKIT_CODES.cardNotFound, 'The card entity does not exist');
      const at = core.now();
      if (cardUpdateRateLimit) {
        entity.attemptTimes = entity.attemptTimes.filter((time) => at - time < 1000);
        if (entity.attemptTimes.length >= cardUpdateRateLimit.perSecond) {
          core.recordViolation({ cardId: entity.cardId, api, at });
          if (cardUpdateRateLimit.reject) {
            return {
              ...fail(IM_CODES.messageRateLimited, 'request trigger frequency limit', 429),
              headers: {
                'x-ogw-ratelimit-limit': String(cardUpdateRateLimit.perSecond),
                'x-ogw-ratelimit-reset': '1',
              },
            };
          }
        }
        entity.attemptTimes.push(at);
      }
      if (typeof body.uuid === 'string' && body.uuid !== '' && entity.uuids.has(body.uuid)) {
        return { entity, replay: true };
      }
      const sequence = body.sequence;
      if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 1 || sequence > 2_147_483_647) {
        return fail(CARDKIT_CODES.invalidParameter, 'sequence must be a positive int32');
      }
      if (sequence <= entity.sequence) {
        pushBounded(entity.rejectedSequences, sequence, HISTORY_LIMIT);
        return fail(
          CARDKIT_CODES.sequenceNotIncreasing,
          `The sequence number for operating on the card did not increment consecutively (got ${sequence}, last ${entity.sequence})`,
        );
      }
      return { entity, replay: false };
    }

    function accept(entity: CardEntity, body: Record<string, unknown>): void {
      entity.sequence = Number(body.sequence);
      pushBounded(entity.sequenceHistory, entity.sequence, HISTORY_LIMIT);
      pushBounded(entity.updateTimes, core.now(), HISTORY_LIMIT);
      if (typeof body.uuid === 'string' && body.uuid !== '') entity.uuids.add(body.uuid);
    }

    function createCard({ body }: FeishuRequest): Reply {
      if (body.type !== 'card_json') return fail(CARDKIT_CODES.invalidParameter, 'type must be card_json');
      const parsedCard = parseCardJson(body.data);
      if (isReply(parsedCard)) return parsedCard;
      const { card } = parsedCard;
      const entity: CardEntity = {
        cardId: numericId(),
        card,
        elementIndex: new Map(),
        contentHistory: new Map(),
        sequence: 0,
        sequenceHistory: [],
        rejectedSequences: [],
        updateTimes: [],
        attemptTimes: [],
        uuids: new Set(),
        streamingOpenedAt: undefined,
        streamingClosedBy: undefined,
        messageId: undefined,
        createdAt: core.now(),
      };
      setCard(entity, card, 'never-opened');
      cards.set(entity.cardId, entity);
      return ok({ card_id: entity.cardId });
    }

    function updateElementContent({ params, body }: FeishuRequest): Reply {
      const gate = sequenced('cardkit.cardElement.content', params.card_id, body);
      if (isReply(gate)) return gate;
      const { entity, replay } = gate;
      if (replay) return ok({});
      if (!isStreaming(entity)) {
        return entity.streamingClosedBy === 'timeout'
          ? fail(CARDKIT_CODES.streamingTimeout, 'Card streaming timeout')
          : fail(CARDKIT_CODES.streamingClosed, 'Card streaming closed');
      }
      const elementId = params.element_id ?? '';
      const element = entity.elementIndex.get(elementId);
      if (!element)
        return fail(CARDKIT_CODES.invalidParameter, `element_id ${elementId} not found in card ${entity.cardId}`);
      if (element.tag !== 'markdown' && element.tag !== 'plain_text') {
        return fail(CARDKIT_CODES.onlyUpdateText, 'Only update text');
      }
      const content = body.content;
      if (typeof content !== 'string' || content.length < 1 || content.length > ELEMENT_CONTENT_MAX_CHARS) {
        return fail(CARDKIT_CODES.invalidParameter, `content must be 1 to ${ELEMENT_CONTENT_MAX_CHARS} characters`);
      }
      if (countTables(entity.card, { elementId, content }) > MAX_CARD_TABLES) {
        return fail(CARDKIT_CODES.tooManyTables, 'card table number over limit');
      }
      // The whole card must stay within its size after the write, as on create and update.
      if (cardBytesWith(entity.card, elementId, content) > CARD_LIMIT_BYTES) {
        return fail(CARDKIT_CODES.cardTooLarge, 'Card content exceeds limit.');
      }
      accept(entity, body);
      element.content = content;
      const history = entity.contentHistory.get(elementId) ?? [];
      pushBounded(history, content, HISTORY_LIMIT);
      entity.contentHistory.set(elementId, history);
      return ok({});
    }

    function updateCardSettings({ params, body }: FeishuRequest): Reply {
      const gate = sequenced('cardkit.card.settings', params.card_id, body);
      if (isReply(gate)) return gate;
      const { entity, replay } = gate;
      if (replay) return ok({});
      const parsed = typeof body.settings === 'string' ? parseJson(body.settings) : { ok: false as const };
      if (!parsed.ok || !isRecord(parsed.value))
        return fail(CARDKIT_CODES.invalidParameter, 'settings must be a JSON string');
      accept(entity, body);
      const settings = parsed.value;
      if (isRecord(settings.config)) {
        const config = isRecord(entity.card.config) ? entity.card.config : {};
        entity.card.config = { ...config, ...settings.config };
        if ('streaming_mode' in settings.config)
          applyStreamingMode(entity, settings.config.streaming_mode === true, 'settings');
      }
      if (isRecord(settings.card_link)) entity.card.card_link = settings.card_link;
      return ok({});
    }

    function updateCard({ params, body }: FeishuRequest): Reply {
      const gate = sequenced('cardkit.card.update', params.card_id, body);
      if (isReply(gate)) return gate;
      const { entity, replay } = gate;
      if (replay) return ok({});
      const cardField = body.card;
      if (!isRecord(cardField) || cardField.type !== 'card_json') {
        return fail(CARDKIT_CODES.invalidParameter, 'card.type must be card_json');
      }
      const parsedCard = parseCardJson(cardField.data);
      if (isReply(parsedCard)) return parsedCard;
      accept(entity, body);
      setCard(entity, parsedCard.card, 'settings');
      recordContents(entity);
      return ok({});
    }

    function replaceCardElement(api: FeishuApiName, merge: boolean) {
      return ({ params, body }: FeishuRequest): Reply => {
        const gate = sequenced(api, params.card_id, body);
        if (isReply(gate)) return gate;
        const { entity, replay } = gate;
        if (replay) return ok({});
        const elementId = params.element_id ?? '';
        if (!entity.elementIndex.has(elementId)) {
          return fail(CARDKIT_CODES.invalidParameter, `element_id ${elementId} not found in card ${entity.cardId}`);
        }
        const source = merge ? body.partial_element : body.element;
        const parsed = typeof source === 'string' ? parseJson(source) : { ok: false as const };
        if (!parsed.ok || !isRecord(parsed.value)) {
          return fail(CARDKIT_CODES.invalidParameter, `${merge ? 'partial_element' : 'element'} must be a JSON string`);
        }
        const replacement = parsed.value;
        accept(entity, body);
        replaceElement(entity.card, elementId, (current) =>
          merge ? { ...current, ...replacement, element_id: elementId } : { element_id: elementId, ...replacement },
        );
        entity.elementIndex = indexElements(entity.card);
        return ok({});
      };
    }

    function cardStateOf(entity: CardEntity): CardState {
      const streaming = isStreaming(entity);
      const elements: Record<string, CardElementState> = {};
      for (const [elementId, node] of entity.elementIndex) {
        elements[elementId] = {
          tag: String(node.tag),
          content: typeof node.content === 'string' ? node.content : undefined,
          contentHistory: [...(entity.contentHistory.get(elementId) ?? [])],
        };
      }
      return {
        cardId: entity.cardId,
        streaming,
        streamingClosedBy: streaming ? undefined : entity.streamingClosedBy,
        card: structuredClone(entity.card),
        elements,
        sequence: entity.sequence,
        sequenceHistory: [...entity.sequenceHistory],
        rejectedSequences: [...entity.rejectedSequences],
        updateTimes: [...entity.updateTimes],
        messageId: entity.messageId,
        createdAt: entity.createdAt,
      };
    }

    core.route({ api: 'cardkit.card.create', method: 'POST', path: '/open-apis/cardkit/v1/cards', handle: createCard });
    core.route({
      api: 'cardkit.card.settings',
      method: 'PATCH',
      path: '/open-apis/cardkit/v1/cards/:card_id/settings',
      handle: updateCardSettings,
    });
    core.route({
      api: 'cardkit.card.update',
      method: 'PUT',
      path: '/open-apis/cardkit/v1/cards/:card_id',
      handle: updateCard,
    });
    core.route({
      api: 'cardkit.cardElement.content',
      method: 'PUT',
      path: '/open-apis/cardkit/v1/cards/:card_id/elements/:element_id/content',
      handle: updateElementContent,
    });
    core.route({
      api: 'cardkit.cardElement.update',
      method: 'PUT',
      path: '/open-apis/cardkit/v1/cards/:card_id/elements/:element_id',
      handle: replaceCardElement('cardkit.cardElement.update', false),
    });
    core.route({
      api: 'cardkit.cardElement.patch',
      method: 'PATCH',
      path: '/open-apis/cardkit/v1/cards/:card_id/elements/:element_id',
      handle: replaceCardElement('cardkit.cardElement.patch', true),
    });

    return {
      cardState(cardId) {
        const entity = cards.get(cardId);
        return entity ? cardStateOf(entity) : undefined;
      },
      cardForMessage(messageId) {
        const cardId = messages.get(messageId)?.cardId;
        const entity = cardId ? cards.get(cardId) : undefined;
        return entity ? cardStateOf(entity) : undefined;
      },
      cards: () => [...cards.values()].map(cardStateOf),
    };
  },
});

/** CardKit card ids are 19-digit numbers. */
function numericId(): string {
  let id = String(1 + Math.floor(Math.random() * 8));
  for (let index = 0; index < 18; index++) id += String(Math.floor(Math.random() * 10));
  return id;
}

function indexElements(card: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const index = new Map<string, Record<string, unknown>>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isRecord(node)) return;
    if (typeof node.element_id === 'string') index.set(node.element_id, node);
    for (const value of Object.values(node)) walk(value);
  };
  walk(card.body ?? card.elements);
  walk(card.header);
  return index;
}

/** Replaces (or merges into) the node with `elementId` inside the card tree, in place. */
function replaceElement(
  card: Record<string, unknown>,
  elementId: string,
  next: (current: Record<string, unknown>) => Record<string, unknown>,
): boolean {
  let replaced = false;
  const walk = (node: unknown): void => {
    if (replaced) return;
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        const item: unknown = node[index];
        if (isRecord(item) && item.element_id === elementId) {
          node[index] = next(item);
          replaced = true;
          return;
        }
        walk(item);
      }
      return;
    }
    if (!isRecord(node)) return;
    for (const value of Object.values(node)) walk(value);
  };
  walk(card);
  return replaced;
}

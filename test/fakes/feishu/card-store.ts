import type { FeishuCore } from './core.js';

/**
 * The CardKit card entities of the fake, shared by the CardKit area (which creates and updates
 * them) and the message area (a message can show a card by `card_id`, and what the user sees
 * of that message is the card's current state). Used through `core.use(cardStore)`.
 *
 * @example
 * const entity = core.use(cardStore).cards.get(cardId);
 */

declare module './core.js' {
  interface FakeFeishuOptions {
    /** Streaming mode closes itself this long after it was opened (default 10 minutes). */
    streamingTimeoutMs?: number;
  }
}

export interface CardEntity {
  cardId: string;
  card: Record<string, unknown>;
  elementIndex: Map<string, Record<string, unknown>>;
  contentHistory: Map<string, string[]>;
  sequence: number;
  sequenceHistory: number[];
  rejectedSequences: number[];
  updateTimes: number[];
  attemptTimes: number[];
  uuids: Set<string>;
  streamingOpenedAt: number | undefined;
  streamingClosedBy: 'settings' | 'timeout' | 'never-opened' | undefined;
  messageId: string | undefined;
  createdAt: number;
}

export interface CardStore {
  readonly cards: Map<string, CardEntity>;
  /** True while streaming mode is on; closes it (`'timeout'`) once the streaming timeout has passed. */
  isStreaming(entity: CardEntity): boolean;
}

/** Created once per fake through `core.use(cardStore)`. */
export function cardStore(core: FeishuCore): CardStore {
  const { streamingTimeoutMs = 10 * 60 * 1000 } = core.options;
  const cards = new Map<string, CardEntity>();
  core.onReset(() => cards.clear());
  return {
    cards,
    isStreaming(entity) {
      if (entity.streamingOpenedAt === undefined) return false;
      if (core.now() - entity.streamingOpenedAt >= streamingTimeoutMs) {
        entity.streamingOpenedAt = undefined;
        entity.streamingClosedBy = 'timeout';
        return false;
      }
      return true;
    },
  };
}

import { type Language, readLanguage } from '../../i18n/language.js';
import type { Logger } from '../../log.js';
import { errorMessage } from '../../util/error-message.js';

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
  /** Every card was closed by the reply itself; absent, the card watchdog closes them once the job ended. */
  closed?: true;
  /**
   * What the first card shows: `thinking` until the first answer text is written (the change is
   * saved before that text is sent), then `text`. Absent (older checkpoints): unknown. The card
   * watchdog rewrites a card left on `thinking` with a notice instead of leaving it blank.
   */
  shows?: 'thinking' | 'text';
  /** The language of the reply's own words, so the card watchdog writes its notice in it; absent: English. */
  language?: Language;
}

/**
 * The checkpoint for `mode` and the cards opened so far (only the ids are kept).
 *
 * @example
 * await saveCheckpoint(cardCheckpoint('card', [{ cardId: 'c1', messageId: undefined }]));
 */
export function cardCheckpoint(
  mode: CardCheckpoint['mode'],
  cards: ReadonlyArray<{ cardId: string; messageId: string | undefined }>,
  closed = false,
  shows?: CardCheckpoint['shows'],
  language?: Language,
): CardCheckpoint {
  return {
    kind: 'feishu-reply',
    version: 1,
    mode,
    cards: cards.map(({ cardId, messageId }) => (messageId === undefined ? { cardId } : { cardId, messageId })),
    ...(closed ? { closed: true as const } : {}),
    ...(shows === undefined ? {} : { shows }),
    ...(language === undefined || language === 'en' ? {} : { language }),
  };
}

/**
 * Reads a checkpoint saved by `cardCheckpoint`; anything else (or nothing) gives undefined.
 *
 * @example
 * const checkpoint = parseCardCheckpoint(job.checkpoint?.reply);
 */
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
  return {
    kind: 'feishu-reply',
    version: 1,
    mode: record.mode,
    cards,
    ...(record.closed === true ? { closed: true as const } : {}),
    ...(record.shows === 'thinking' || record.shows === 'text' ? { shows: record.shows } : {}),
    ...(record.language === undefined ? {} : { language: readLanguage(record.language) }),
  };
}

/** The first card's id could not be saved in the job checkpoint, so the card was not sent. */
export class CheckpointNotSavedError extends Error {
  readonly code = 'REPLY_CHECKPOINT_NOT_SAVED';
  constructor(cause: unknown) {
    super(`reply checkpoint not saved, card not sent: ${errorMessage(cause)}`, { cause });
    this.name = 'CheckpointNotSavedError';
  }
  static isInstance(error: unknown): error is CheckpointNotSavedError {
    return error instanceof Error && (error as { code?: unknown }).code === 'REPLY_CHECKPOINT_NOT_SAVED';
  }
}

/** Saves a checkpoint; `required`: throw `CheckpointNotSavedError` when it cannot be saved. */
export type SaveCardCheckpoint = (checkpoint: CardCheckpoint, options?: { required?: boolean }) => Promise<void>;

/**
 * Wraps the job's `saveCheckpoint` with the reply's policy: a lost checkpoint only risks a second
 * card after a crash, so it is logged and the answer carries on, unless the caller says the card
 * must not be shown without it (`required`). Without `saveCheckpoint` nothing is saved.
 *
 * @example
 * const save = createCheckpointSaver({ saveCheckpoint: context.saveCheckpoint, log, traceId });
 * await save(cardCheckpoint('card', cards), { required: true });
 */
export function createCheckpointSaver({
  saveCheckpoint,
  log,
  traceId,
}: {
  saveCheckpoint: ((checkpoint: CardCheckpoint) => Promise<void>) | undefined;
  log: Logger;
  traceId: string;
}): SaveCardCheckpoint {
  return async (checkpoint, { required = false } = {}) => {
    if (!saveCheckpoint) return;
    try {
      await saveCheckpoint(checkpoint);
    } catch (error) {
      if (required) throw new CheckpointNotSavedError(error);
      log.warn({ err: error, traceId }, 'could not save the reply checkpoint');
    }
  };
}

import type { Logger } from '../../log.js';
import { FeishuApiError } from '../call-feishu.js';
import type { CardCheckpoint } from './card-checkpoint.js';
import { buildCardJson, type CardControl, STEPS_ELEMENT_ID } from './card-json.js';
import { CardOverLimitError, cardLimitProblem } from './card-limits.js';
import { type CardHandle, type CardKitOperations, isCardLimitError } from './cardkit-operations.js';
import {
  type CardMarkdownOptions,
  createCardPlanner,
  previewSummary,
  renderCardMarkdown,
  renderSegment,
} from './markdown.js';
import type { StepsPanel } from './steps-panel.js';

/** What the cards should show: the full text so far, whether it is final, its footer and steps panel. */
export interface CardGoal {
  text: string;
  final: boolean;
  footer?: string;
  /** The agent's steps, shown in a panel on the first card (folded when the card closes). */
  steps?: StepsPanel;
  /** Buttons the last card keeps once the answer is final (feedback). */
  controls?: readonly CardControl[];
}

/** One card of the answer, as this attempt knows it. */
export interface CardSlot {
  index: number;
  card: CardHandle;
  messageId: string | undefined;
  /** Rendered content the card shows; undefined when unknown (adopted from a checkpoint). */
  shown: string | undefined;
  /** The footer the card shows, once the final card JSON with it was written. */
  footer: string | undefined;
  /** Its message was recalled (an answer that ended shorter than an earlier text). */
  recalled: boolean;
  /** The steps panel the card shows, once it has one (first card only). */
  panel: StepsPanel | undefined;
}

/** Thrown from `sync` after Feishu refused a card's size: call `sync` again to re-plan smaller cards. */
export class CardReplanError extends Error {
  override readonly name = 'CardReplanError';
}

export interface CardDeckOptions {
  cardKit: CardKitOperations;
  log: Logger;
  /**
   * Saves the reply checkpoint, which lists `cards`. `required`: throws when it cannot be saved,
   * and the card is then not shown.
   */
  persist: (options?: { required?: boolean }) => Promise<void>;
  /** Rendered markdown per card, in bytes of its JSON string; Feishu's card limit is 30 KB. */
  maxCardBytes: number;
  /** An answer needing more cards than this cannot be shown as cards. */
  maxCards: number;
  markdown: Omit<CardMarkdownOptions, 'openFence'>;
  /** What a card shows before its first words arrive. */
  thinkingText: string;
  /** Shown for an empty answer (a card element cannot be empty). */
  emptyText: string;
  /** Buttons every card shows while it streams (Stop); a card loses them when it is closed. */
  controls?: readonly CardControl[];
  /** A card was closed because the answer continues in the next one; `text` is its part of the answer. */
  onRolledOver?: (card: { index: number; cardId: string; text: string }) => void;
}

export interface CardDeck {
  /** The answer's cards in order. */
  readonly cards: readonly CardSlot[];
  /**
   * What the first card shows: `thinking` once opened, `text` from its first answer text (or
   * final text) on; undefined for cards resumed from a checkpoint until text is written.
   */
  readonly shows: 'thinking' | 'text' | undefined;
  /** Opens the first card showing `thinkingText` and sends it as the reply. */
  open(): Promise<void>;
  /** Continues the cards an earlier attempt saved, sending those it had not sent yet. */
  resume(saved: CardCheckpoint['cards']): Promise<void>;
  /** Brings the cards to show `goal`: the only thing that writes cards after `open`/`resume`. */
  sync(goal: CardGoal): Promise<void>;
  /** Resolves when the newest card accepts a write. */
  ready(): Promise<void>;
  /** Best effort: turns streaming off on every card still showing a typing cursor. */
  closeQuietly(): Promise<void>;
}

const MIN_CARD_BYTES = 2048;

/**
 * The cards one answer is shown in. The text is planned into card-sized segments (cut at a
 * paragraph or line, not inside a code block when avoidable); before a card would exceed
 * `maxCardBytes` it is closed and a new card continues the answer. When Feishu still refuses a
 * card's size, the cards get smaller (`CardReplanError`). Cards left over from a longer earlier
 * text are blanked, and recalled when the answer is final.
 *
 * @example
 * const deck = createCardDeck({ cardKit, log, persist, maxCardBytes: 24 * 1024, maxCards: 20,
 *   markdown: {}, thinkingText: '⏳ Thinking…', emptyText: '…' });
 * await deck.open();
 * await deck.sync({ text: 'Hello', final: false });
 * await deck.sync({ text: 'Hello world', final: true, footer: 'gpt-4o · 1.2 s' });
 */
export function createCardDeck({
  cardKit,
  log,
  persist,
  maxCardBytes,
  maxCards,
  markdown,
  thinkingText,
  emptyText,
  controls = [],
  onRolledOver = () => {},
}: CardDeckOptions): CardDeck {
  const cards: CardSlot[] = [];
  let shows: CardDeck['shows'];
  /**
   * Saved before a card first shows anything but `thinkingText`, so the card watchdog knows a card
   * still on "Thinking…" (rewritten with a notice) from one with text (only closed).
   */
  const markText = async (content: string) => {
    if (shows === 'text' || content === thinkingText) return;
    shows = 'text';
    await persist();
  };
  let cardBytesLimit = Math.max(MIN_CARD_BYTES, maxCardBytes);
  // Incremental: cards already full are not re-planned on every update of a long answer.
  let planner = createCardPlanner({ maxBytes: cardBytesLimit, ...markdown });

  const slot = (index: number, card: CardHandle, messageId?: string): CardSlot => ({
    index,
    card,
    messageId,
    shown: undefined,
    footer: undefined,
    recalled: false,
    panel: undefined,
  });

  const send = async (slotToSend: CardSlot) => {
    slotToSend.messageId = await cardKit.send(slotToSend.card, slotToSend.index);
    await persist();
  };

  /**
   * Creates card `index` showing `content`, saves it, then sends it as a reply. The first card
   * must not be shown unless its id is saved: it is sent with a uuid that is the same on every
   * attempt, so if it were shown without a checkpoint (the store down), a resumed attempt would
   * open a new card, its send would be absorbed by that uuid, and the card the user sees would
   * stay half-written forever.
   */
  const openCard = async (index: number, content: string, summary: string) => {
    const cardJson = buildCardJson({ body: { text: content, controls }, streaming: true, summary });
    let card: CardHandle | undefined;
    await withinLimits(cardJson, async () => {
      card = await cardKit.create(cardJson);
    });
    if (card === undefined) throw new Error('card.create returned no card');
    const opened = slot(index, card);
    opened.shown = content;
    cards.push(opened);
    // Saved before it is sent: a crash in between resends this card with the same uuid.
    await persist({ required: index === 0 });
    await send(opened);
    return opened;
  };

  const shrink = (reason: Record<string, unknown>, message: string) => {
    cardBytesLimit = Math.max(MIN_CARD_BYTES, Math.floor(cardBytesLimit * 0.7));
    planner = createCardPlanner({ maxBytes: cardBytesLimit, ...markdown });
    log.warn({ ...reason, cardBytes: cardBytesLimit }, message);
    return new CardReplanError('card size limit');
  };

  /**
   * Runs a write of a card that will look like `cardJson`. A card over Feishu's documented size or
   * element count is not sent at all, and a refusal Feishu gives anyway is treated alike: the
   * cards get smaller and the caller re-plans (`CardReplanError`), the overflow moving to a
   * follow-up card.
   */
  const withinLimits = async (cardJson: string, operation: () => Promise<void>) => {
    const problem = cardLimitProblem(cardJson);
    if (problem !== undefined) {
      if (cardBytesLimit <= MIN_CARD_BYTES) throw new CardOverLimitError(problem);
      throw shrink({ ...problem }, "card would be over Feishu's limits; rolling over to smaller cards");
    }
    try {
      await operation();
    } catch (error) {
      if (!isCardLimitError(error) || cardBytesLimit <= MIN_CARD_BYTES) throw error;
      throw shrink({ code: error.code }, 'card refused the content size; rolling over to smaller cards');
    }
  };

  /** The card JSON an open card shows after its answer element is set to `content`. */
  const streamingCard = (target: CardSlot, content: string) =>
    buildCardJson({
      body: {
        text: content,
        controls,
        ...(target.panel === undefined ? {} : { steps: { ...target.panel, expanded: true } }),
      },
      streaming: true,
      summary: thinkingText,
    });

  const write = (target: CardSlot, content: string) =>
    withinLimits(streamingCard(target, content), async () => {
      await markText(content);
      await target.card.setAnswer(content);
      target.shown = content;
      target.footer = undefined;
    });

  /**
   * Closes a card in ONE operation: the whole card replaced with its final text, its footer and
   * no buttons, streaming off. Writing the text and then turning streaming off would be two
   * operations, the second waiting for a rate slot after the first.
   */
  const close = (
    target: CardSlot,
    content: string,
    raw: string,
    footer: string | undefined,
    steps?: StepsPanel,
    closedControls?: readonly CardControl[],
  ) => {
    const summary = previewSummary(raw) || emptyText;
    const panel = steps ?? target.panel;
    const body = {
      text: content,
      ...(footer === undefined ? {} : { footer: renderCardMarkdown(footer, markdown) }),
      ...(closedControls === undefined ? {} : { controls: closedControls }),
      // Folded: the answer is what matters now; the steps stay one tap away.
      ...(panel === undefined ? {} : { steps: { ...panel, expanded: false } }),
    };
    const cardJson = buildCardJson({ body, streaming: false, summary });
    return withinLimits(cardJson, async () => {
      await markText(content);
      await target.card.replace(cardJson, false);
      target.shown = content;
      target.footer = footer;
      target.panel = panel;
    });
  };

  /**
   * Shows the steps on the open first card: the first time by replacing the card with the panel
   * added (one operation, text and buttons kept), later by rewriting only the panel's list.
   */
  const showSteps = (target: CardSlot, content: string, steps: StepsPanel) => {
    const body = { text: content, controls, steps: { ...steps, expanded: true } };
    const cardJson = buildCardJson({ body, streaming: true, summary: thinkingText });
    return withinLimits(cardJson, async () => {
      if (target.panel === undefined) {
        await target.card.replace(cardJson, true);
        target.shown = content;
      } else if (target.panel.content !== steps.content) {
        await target.card.setText(STEPS_ELEMENT_ID, steps.content);
      }
      target.panel = steps;
    });
  };

  const recall = async (target: CardSlot): Promise<boolean> => {
    if (target.messageId === undefined || !(await cardKit.recall(target.messageId))) return false;
    target.recalled = true;
    return true;
  };

  return {
    cards,
    get shows() {
      return shows;
    },
    async open() {
      shows = 'thinking';
      await openCard(0, thinkingText, thinkingText);
    },
    async resume(saved) {
      for (const [index, { cardId, messageId }] of saved.entries()) {
        cards.push(slot(index, cardKit.adopt(cardId), messageId));
      }
      for (const card of cards) if (card.messageId === undefined) await send(card);
    },
    async sync(goal) {
      const segments = planner.plan(goal.text);
      if (segments.length > maxCards) {
        throw new FeishuApiError({ api: 'reply', message: `answer needs ${segments.length} cards (max ${maxCards})` });
      }
      for (const [index, segment] of segments.entries()) {
        const raw = goal.text.slice(segment.start, segment.end);
        const content = renderSegment(goal.text, segment, markdown) || (goal.final ? emptyText : thinkingText);
        const last = index === segments.length - 1;
        let target = cards[index];
        if (!target) {
          target = await openCard(
            index,
            content,
            last && !goal.final ? thinkingText : previewSummary(raw) || emptyText,
          );
        } else if (target.messageId === undefined) {
          await send(target);
        }
        // The panel lives on the first card while it is the open one; a rolled-over card keeps it folded.
        const steps = index === 0 && last ? goal.steps : undefined;
        if (last && !goal.final) {
          if (steps !== undefined) await showSteps(target, content, steps);
          if (target.shown !== content) await write(target, content);
          continue;
        }
        const footer = last && goal.final ? goal.footer : undefined;
        const stepsChanged = steps !== undefined && steps.content !== target.panel?.content;
        if (target.card.streaming !== false || target.footer !== footer || target.shown !== content || stepsChanged) {
          await close(target, content, raw, footer, steps, last && goal.final ? goal.controls : undefined);
          if (!last) onRolledOver({ index, cardId: target.card.cardId, text: raw });
        }
      }
      // Cards left over from a longer earlier text (a resumed attempt, or a model that started
      // over, answered shorter): blank while streaming; recalled at the end, or closed blank.
      for (const target of cards.slice(segments.length)) {
        if (target.recalled) continue;
        if (goal.final && (await recall(target))) continue;
        if (target.shown !== emptyText) await write(target, emptyText);
        if (goal.final && target.card.streaming !== false) await target.card.setStreaming(false, emptyText);
      }
    },
    ready: () => cards.at(-1)?.card.ready() ?? Promise.resolve(),
    async closeQuietly() {
      for (const target of cards) {
        if (target.card.streaming === false || target.messageId === undefined) continue;
        try {
          await target.card.setStreaming(false, emptyText);
        } catch (error) {
          log.debug({ err: error, cardId: target.card.cardId }, 'could not close the card');
        }
      }
    },
  };
}

import { describe, expect, it } from 'vitest';
import { type FakeMessage, FEISHU_CODES } from '../../../test/fakes/fake-feishu.js';
import { useFakeFeishuChat } from '../../../test/support/fake-feishu-chat.js';
import { silentLogger } from '../../log.js';
import { createEventBus } from '../../observe/event-bus.js';
import { sleep } from '../../util/sleep.js';
import { FeishuApiError } from '../call-feishu.js';
import { type CardDeckOptions, CardReplanError, createCardDeck } from './card-deck.js';
import { buildCardJson } from './card-json.js';
import { CARD_LIMITS, cardLimitProblem } from './card-limits.js';
import { createCardKitOperations } from './cardkit-operations.js';
import { resolveRetryPolicy } from './retry-policy.js';

const CHAT = 'oc_card_deck';
const THINKING = '⏳ Thinking…';
const chat = useFakeFeishuChat((fake) => fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'hello?' }));

function deckFor(overrides: Partial<CardDeckOptions> = {}, attempt = 1) {
  const persisted: Array<{ required: boolean; cards: number }> = [];
  const cardKit = createCardKitOperations({
    client: chat.client,
    bus: createEventBus(),
    log: silentLogger(),
    target: { messageId: chat.userMessage.messageId, chatId: CHAT, replyInThread: false },
    traceId: 'job-1',
    idempotencyKey: (part) => `job-1-${part}`,
    attempt,
    updatesPerSecond: 10,
    requestTimeoutMs: 5_000,
    retry: resolveRetryPolicy({ initialMs: 10, maxMs: 50, jitter: 0 }),
    now: Date.now,
    sleep,
  });
  const deck = createCardDeck({
    cardKit,
    log: silentLogger(),
    persist: async ({ required = false } = {}) => {
      persisted.push({ required, cards: deck.cards.length });
    },
    maxCardBytes: 24 * 1024,
    maxCards: 20,
    markdown: {},
    thinkingText: THINKING,
    emptyText: '…',
    ...overrides,
  });
  return { deck, persisted, cardKit };
}

/** Prose paragraphs that render unchanged, so the cards' texts concatenate back to the answer. */
function prose(paragraphs: number): string {
  return Array.from({ length: paragraphs }, (_, index) => `Paragraph ${index}: ${'words '.repeat(60)}`).join('\n\n');
}

const replies = (): FakeMessage[] => chat.fake.repliesTo(chat.userMessage.messageId);
const visible = () => replies().filter((reply) => !reply.deleted);
const shownText = () =>
  visible()
    .map((reply) => chat.fake.visibleText(reply.messageId))
    .join('');

describe('createCardDeck (real lark SDK against the fake Feishu)', () => {
  it('opens a thinking card, saved before it is sent, then streams and closes it with a footer', async () => {
    const { deck, persisted } = deckFor();
    await deck.open();
    expect(persisted).toEqual([
      { required: true, cards: 1 },
      { required: false, cards: 1 },
    ]);
    expect(chat.fake.visibleText(replies()[0]!.messageId)).toBe(THINKING);

    await deck.sync({ text: 'Hello', final: false });
    expect(chat.fake.cardForMessage(replies()[0]!.messageId)?.streaming).toBe(true);
    await deck.sync({ text: 'Hello world.', final: true, footer: 'gpt-4o · 1.2 s' });

    const card = chat.fake.cardForMessage(replies()[0]!.messageId)!;
    expect(card.streaming).toBe(false);
    expect(chat.fake.visibleText(replies()[0]!.messageId)).toBe('Hello world.\ngpt-4o · 1.2 s');
    expect(deck.cards).toHaveLength(1);
  });

  it('rolls a long answer over to further cards, each within the size and all closed', async () => {
    const { deck } = deckFor({ maxCardBytes: 4096 });
    await deck.open();
    const answer = prose(40);
    await deck.sync({ text: answer, final: true });
    expect(visible().length).toBeGreaterThanOrEqual(3);
    expect(shownText()).toBe(answer);
    for (const reply of visible()) expect(chat.fake.cardForMessage(reply.messageId)?.streaming).toBe(false);
    expect(replies().map((reply) => reply.uuid)).toEqual(replies().map((_, index) => `job-1-card-${index}`));
  });

  it('recalls cards a shorter final answer no longer needs', async () => {
    const { deck } = deckFor({ maxCardBytes: 4096 });
    await deck.open();
    await deck.sync({ text: prose(40), final: false });
    const opened = replies().length;
    expect(opened).toBeGreaterThanOrEqual(3);
    await deck.sync({ text: 'Short after all.', final: true });
    expect(visible()).toHaveLength(1);
    expect(shownText()).toBe('Short after all.');
    expect(deck.cards.filter((card) => card.recalled)).toHaveLength(opened - 1);
  });

  it('saves that the first card shows text before its first answer text is written, once', async () => {
    const { deck, persisted } = deckFor();
    await deck.open();
    expect(deck.shows).toBe('thinking');
    const opened = persisted.length;
    await deck.sync({ text: '', final: false });
    expect(deck.shows).toBe('thinking');
    expect(persisted).toHaveLength(opened);
    await deck.sync({ text: 'First words', final: false });
    expect(deck.shows).toBe('text');
    expect(persisted).toHaveLength(opened + 1);
    await deck.sync({ text: 'First words and more', final: true });
    expect(persisted).toHaveLength(opened + 1);
  });

  it('makes cards smaller when Feishu refuses a card size, and the next sync fits', async () => {
    const { deck } = deckFor();
    await deck.open();
    const answer = prose(60);
    expect(Buffer.byteLength(answer)).toBeLessThan(24 * 1024);
    chat.fake.inject({ api: 'cardkit.cardElement.content', code: FEISHU_CODES.cardTooLarge });
    await expect(deck.sync({ text: answer, final: false })).rejects.toBeInstanceOf(CardReplanError);
    await deck.sync({ text: answer, final: true });
    expect(visible().length).toBeGreaterThanOrEqual(2);
    expect(shownText()).toBe(answer);
  });

  it("checks a card against Feishu's size limit before sending: the overflow rolls over, never refused", async () => {
    // A budget above Feishu's 30 KB (as a misconfigured setting would give): the check still holds.
    const { deck } = deckFor({ maxCardBytes: 64 * 1024 });
    await deck.open();
    const answer = prose(100);
    expect(Buffer.byteLength(answer)).toBeGreaterThan(CARD_LIMITS.maxBytes);
    let replans = 0;
    for (;;) {
      try {
        await deck.sync({ text: answer, final: true });
        break;
      } catch (error) {
        if (!(error instanceof CardReplanError) || ++replans > 5) throw error;
      }
    }
    expect(replans).toBeGreaterThan(0);
    expect(visible().length).toBeGreaterThanOrEqual(2);
    expect(shownText()).toBe(answer);
    // Feishu never had to refuse a card for its size.
    expect(chat.fake.calls.filter((call) => call.code === FEISHU_CODES.cardTooLarge)).toEqual([]);
    for (const reply of visible()) {
      const card = chat.fake.cardForMessage(reply.messageId)!;
      expect(cardLimitProblem(JSON.stringify(card.card))).toBeUndefined();
    }
  });

  it('refuses an answer that needs more than maxCards', async () => {
    const { deck } = deckFor({ maxCardBytes: 2048, maxCards: 2 });
    await deck.open();
    const error = await deck.sync({ text: prose(40), final: false }).catch((thrown: unknown) => thrown);
    expect(FeishuApiError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/answer needs \d+ cards \(max 2\)/);
  });

  it('resumes saved cards: sends the one not sent yet and continues writing into them', async () => {
    const first = deckFor();
    await first.deck.open();
    await first.deck.sync({ text: 'The first half, ', final: false });
    // As if the earlier attempt had created a second card and stopped before sending it.
    const unsent = await first.cardKit.create(
      buildCardJson({ body: { text: THINKING }, streaming: true, summary: THINKING }),
    );
    const sentMessageId = first.deck.cards[0]!.messageId!;

    const second = deckFor({ maxCardBytes: 2048 }, 2);
    await second.deck.resume([
      { cardId: first.deck.cards[0]!.card.cardId, messageId: sentMessageId },
      { cardId: unsent.cardId },
    ]);
    expect(second.deck.cards.map((card) => card.messageId)).toEqual([sentMessageId, expect.any(String)]);
    expect(second.persisted).toEqual([{ required: false, cards: 2 }]);
    expect(chat.fake.cardForMessage(second.deck.cards[1]!.messageId!)?.cardId).toBe(unsent.cardId);

    const answer = prose(8);
    await second.deck.sync({ text: answer, final: true });
    expect(
      replies()
        .map((reply) => chat.fake.cardForMessage(reply.messageId)?.cardId)
        .slice(0, 2),
    ).toEqual([first.deck.cards[0]!.card.cardId, unsent.cardId]);
    expect(shownText()).toBe(answer);
  });
});

import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../../../test/fakes/fake-feishu.js';
import { useFakeFeishuChat } from '../../../test/support/fake-feishu-chat.js';
import { silentLogger } from '../../log.js';
import type { BotEvent } from '../../observe/bot-event.js';
import { createEventBus } from '../../observe/event-bus.js';
import { sleep } from '../../util/sleep.js';
import { FeishuApiError } from '../call-feishu.js';
import { ANSWER_ELEMENT_ID, buildCardJson } from './card-json.js';
import { type CardKitOperationsOptions, createCardKitOperations, isCardLimitError } from './cardkit-operations.js';
import { resolveRetryPolicy } from './retry-policy.js';

const CHAT = 'oc_cardkit_operations';
const chat = useFakeFeishuChat((fake) => fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'hello?' }));

function cardKitFor(overrides: Partial<CardKitOperationsOptions> = {}) {
  const bus = createEventBus();
  const events: BotEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const cardKit = createCardKitOperations({
    client: chat.client,
    bus,
    log: silentLogger(),
    target: { messageId: chat.userMessage.messageId, chatId: CHAT, replyInThread: false },
    traceId: 'job-1',
    idempotencyKey: (part) => `job-1-${part}`,
    attempt: 1,
    updatesPerSecond: 10,
    requestTimeoutMs: 5_000,
    retry: resolveRetryPolicy({ initialMs: 10, maxMs: 50, jitter: 0 }),
    now: Date.now,
    sleep,
    ...overrides,
  });
  return { cardKit, events };
}

const thinkingCard = () => buildCardJson({ body: { text: '⏳' }, streaming: true, summary: '⏳' });

describe('createCardKitOperations (real lark SDK against the fake Feishu)', () => {
  it('creates, sends, streams into and closes a card with sequences above the attempt base', async () => {
    const { cardKit, events } = cardKitFor({ attempt: 3 });
    const card = await cardKit.create(thinkingCard());
    expect(card.streaming).toBe(true);
    const messageId = await cardKit.send(card, 0);
    await card.setAnswer('Hello');
    await card.setAnswer('Hello world');
    await card.setStreaming(false, 'Hello world');

    expect(chat.fake.repliesTo(chat.userMessage.messageId).map((reply) => reply.messageId)).toEqual([messageId]);
    const state = chat.fake.cardForMessage(messageId)!;
    expect(state.elements[ANSWER_ELEMENT_ID]?.content).toBe('Hello world');
    expect(state.streaming).toBe(false);
    expect(card.streaming).toBe(false);
    expect(state.sequenceHistory).toEqual([3_000_001, 3_000_002, 3_000_003]);
    expect(events.filter((event) => event.type === 'reply.update')).toMatchObject([
      { type: 'reply.update', traceId: 'job-1', cardId: card.cardId, sequence: 3_000_001, length: 5 },
      { type: 'reply.update', traceId: 'job-1', cardId: card.cardId, sequence: 3_000_002, length: 11 },
    ]);
  });

  it('sends each card index once: the same uuid on a later attempt gives the same message', async () => {
    const first = cardKitFor();
    const card = await first.cardKit.create(thinkingCard());
    const messageId = await first.cardKit.send(card, 0);
    const later = cardKitFor({ attempt: 2 });
    expect(await later.cardKit.send(later.cardKit.adopt(card.cardId), 0)).toBe(messageId);
    expect(chat.fake.repliesTo(chat.userMessage.messageId)).toHaveLength(1);
  });

  it('re-opens the stream of an adopted card before writing, and moves past a 300317', async () => {
    const first = cardKitFor();
    const created = await first.cardKit.create(thinkingCard());
    await first.cardKit.send(created, 0);
    await created.setStreaming(false, 'closed');

    const { cardKit } = cardKitFor({ attempt: 2 });
    const adopted = cardKit.adopt(created.cardId);
    expect(adopted.streaming).toBeUndefined();
    chat.fake.inject({ api: 'cardkit.cardElement.content', code: FEISHU_CODES.sequenceNotIncreasing });
    await adopted.setAnswer('Continued');

    const state = chat.fake.cardState(created.cardId)!;
    expect(state.elements[ANSWER_ELEMENT_ID]?.content).toBe('Continued');
    expect(state.streaming).toBe(true);
    expect(adopted.streaming).toBe(true);
    expect(chat.fake.callsTo('cardkit.card.settings').at(-1)?.body).toMatchObject({
      settings: JSON.stringify({ config: { streaming_mode: true } }),
    });
    const sequences = state.sequenceHistory;
    for (let index = 1; index < sequences.length; index++)
      expect(sequences[index]!).toBeGreaterThan(sequences[index - 1]!);
    expect(sequences.at(-1)!).toBeGreaterThan(2_000_000);
  });

  it('opens a stream Feishu closed after its timeout again and writes the full text', async () => {
    const { cardKit } = cardKitFor();
    const card = await cardKit.create(thinkingCard());
    await cardKit.send(card, 0);
    chat.fake.inject({ api: 'cardkit.cardElement.content', code: FEISHU_CODES.streamingTimeout });
    await card.setAnswer('After the timeout');
    expect(chat.fake.cardState(card.cardId)?.elements[ANSWER_ELEMENT_ID]?.content).toBe('After the timeout');
    expect(chat.fake.callsTo('cardkit.card.settings')).toHaveLength(1);
  });

  it('replaces the whole card and records its streaming mode', async () => {
    const { cardKit } = cardKitFor();
    const card = await cardKit.create(thinkingCard());
    await cardKit.send(card, 0);
    await card.replace(
      buildCardJson({ body: { text: 'Done.', footer: 'gpt-4o' }, streaming: false, summary: 'Done.' }),
      false,
    );
    const state = chat.fake.cardState(card.cardId)!;
    expect(state.streaming).toBe(false);
    expect(card.streaming).toBe(false);
    expect(Object.keys(state.elements).sort()).toEqual(['answer', 'footer']);
  });

  it('recalls a card message, and reports a refusal as false', async () => {
    const { cardKit } = cardKitFor();
    const card = await cardKit.create(thinkingCard());
    const messageId = await cardKit.send(card, 0);
    expect(await cardKit.recall(messageId)).toBe(true);
    expect(chat.fake.message(messageId)?.deleted).toBe(true);
    expect(await cardKit.recall('om_unknown')).toBe(false);
  });

  it('throws transient recall failures so the caller retries', async () => {
    const { cardKit } = cardKitFor();
    const card = await cardKit.create(thinkingCard());
    const messageId = await cardKit.send(card, 0);
    chat.fake.inject({ api: 'im.message.delete', status: 503 });
    await expect(cardKit.recall(messageId)).rejects.toSatisfy((error) => FeishuApiError.isInstance(error));
  });

  it('recognises a card size refusal', async () => {
    const { cardKit } = cardKitFor();
    const card = await cardKit.create(thinkingCard());
    await cardKit.send(card, 0);
    chat.fake.inject({ api: 'cardkit.cardElement.content', code: FEISHU_CODES.cardTooLarge });
    const error = await card.setAnswer('too big').catch((thrown: unknown) => thrown);
    expect(isCardLimitError(error)).toBe(true);
    expect(isCardLimitError(new FeishuApiError({ api: 'x', message: 'm', code: FEISHU_CODES.streamingTimeout }))).toBe(
      false,
    );
  });

  it('refuses an attempt number its sequences cannot hold', () => {
    expect(() => cardKitFor({ attempt: 0 })).toThrow(RangeError);
    expect(() => cardKitFor({ attempt: 2001 })).toThrow(RangeError);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { createConversationMemory, estimateTokens, trimToTokenBudget } from './memory.js';

const message = (content: string, at: number, role: 'user' | 'assistant' = 'user'): HistoryMessage => ({
  role,
  content,
  at,
});

describe('estimateTokens', () => {
  it('counts about four Latin characters per token and one token per CJK character', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('hello world!')).toBe(3);
    expect(estimateTokens('你好世界')).toBe(4);
    expect(estimateTokens('こんにちは')).toBe(5);
    expect(estimateTokens('안녕')).toBe(2);
    expect(estimateTokens('你好 abcd')).toBe(2 + 2);
  });
});

describe('trimToTokenBudget', () => {
  it('keeps the newest messages that fit, oldest first', () => {
    const history = [message('a'.repeat(400), 1), message('b'.repeat(40), 2), message('c'.repeat(40), 3)];
    // 40 chars = 10 tokens + 4 overhead = 14 each; the 400-char one costs 104.
    expect(trimToTokenBudget(history, 30).map((item) => item.at)).toEqual([2, 3]);
    expect(trimToTokenBudget(history, 27).map((item) => item.at)).toEqual([3]);
    expect(trimToTokenBudget(history, 1000).map((item) => item.at)).toEqual([1, 2, 3]);
    expect(trimToTokenBudget(history, 5)).toEqual([]);
  });

  it('stops at the first message that does not fit (no gaps in the conversation)', () => {
    const history = [message('x', 1), message('y'.repeat(400), 2), message('z', 3)];
    expect(trimToTokenBudget(history, 20).map((item) => item.at)).toEqual([3]);
  });

  it('counts CJK history by characters', () => {
    const history = [message('你'.repeat(50), 1), message('好'.repeat(50), 2)];
    expect(trimToTokenBudget(history, 60).map((item) => item.at)).toEqual([2]);
  });
});

describe('conversation memory on SQLite', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('appends, loads within budget, and clears', async () => {
    store = await openStore('sqlite::memory:');
    const memory = createConversationMemory({ store, tokenBudget: 40 });
    await memory.append('chat:oc_1', [
      message('first question '.repeat(10), 1),
      message('first answer', 2, 'assistant'),
    ]);
    await memory.append('chat:oc_1', [message('second question', 3), message('second answer', 4, 'assistant')]);
    const loaded = await memory.load({ key: 'chat:oc_1' });
    expect(loaded.map((item) => item.at)).toEqual([2, 3, 4]);
    expect(await memory.load({ key: 'chat:oc_2' })).toEqual([]);
    await memory.clear('chat:oc_1');
    expect(await memory.load({ key: 'chat:oc_1' })).toEqual([]);
  });

  it('bounds what the store keeps per conversation', async () => {
    store = await openStore('sqlite::memory:');
    const memory = createConversationMemory({ store, tokenBudget: 10_000, maxStoredMessages: 5 });
    for (let index = 0; index < 12; index++) await memory.append('k', [message(`m${index}`, index)]);
    expect((await memory.load({ key: 'k' })).map((item) => item.content)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11']);
  });
});

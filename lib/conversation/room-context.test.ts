import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createRoomContext, formatRoom, roomKey } from './room-context.js';

describe('room context kept from events (stored mode)', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function room(options: { maxMessages?: number; tokenBudget?: number } = {}) {
    store = await openStore('sqlite::memory:');
    const names: Record<string, string> = { ou_a: 'Ann', ou_b: 'Bo' };
    return createRoomContext({
      store,
      bus: createEventBus(),
      resolveUserName: async (openId) => names[openId],
      maxMessages: options.maxMessages ?? 10,
      tokenBudget: options.tokenBudget ?? 1_000,
    });
  }

  const read = (context: Awaited<ReturnType<typeof room>>, chatId: string, known: string[] = []) =>
    context.read({
      where: { chatId },
      mode: 'stored',
      currentMessageId: 'om_now',
      currentTime: 10_000,
      known: new Set(known),
    });

  it('gives the newest messages of that chat only, with display names, oldest first', async () => {
    const context = await room({ maxMessages: 2 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_1', senderId: 'ou_a', text: 'one', at: 1 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_2', senderId: 'ou_b', text: 'two', at: 2 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_3', senderId: 'ou_zz', text: 'three', at: 3 });
    await context.remember({ chatId: 'oc_2' }, { messageId: 'om_4', senderId: 'ou_a', text: 'elsewhere', at: 4 });
    const messages = await read(context, 'oc_1');
    expect(messages.map((message) => [message.author, message.text])).toEqual([
      ['Bo', 'two'],
      ['ou_zz', 'three'],
    ]);
  });

  it('leaves out what memory already holds, the current message and anything after it', async () => {
    const context = await room();
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_1', senderId: 'ou_a', text: 'known', at: 1 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_now', senderId: 'ou_a', text: 'current', at: 10_000 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_9', senderId: 'ou_b', text: 'later', at: 20_000 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_2', senderId: 'ou_b', text: 'kept', at: 2 });
    expect((await read(context, 'oc_1', ['om_1'])).map((message) => message.text)).toEqual(['kept']);
  });

  it('keeps within the token budget, newest first', async () => {
    const context = await room({ tokenBudget: 20 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_1', senderId: 'ou_a', text: 'x'.repeat(200), at: 1 });
    await context.remember({ chatId: 'oc_1' }, { messageId: 'om_2', senderId: 'ou_a', text: 'short', at: 2 });
    expect((await read(context, 'oc_1')).map((message) => message.text)).toEqual(['short']);
  });

  it('is nothing when off, and per thread when in a thread', async () => {
    const context = await room();
    await context.remember(
      { chatId: 'oc_1', threadId: 'omt_1' },
      { messageId: 'om_1', senderId: 'ou_a', text: 'in thread', at: 1 },
    );
    expect(await read(context, 'oc_1')).toEqual([]);
    const inThread = await context.read({
      where: { chatId: 'oc_1', threadId: 'omt_1' },
      mode: 'stored',
      currentMessageId: 'om_x',
      currentTime: 0,
      known: new Set(),
    });
    expect(inThread.map((message) => message.text)).toEqual(['in thread']);
    const off = await context.read({
      where: { chatId: 'oc_1', threadId: 'omt_1' },
      mode: 'off',
      currentMessageId: 'om_x',
      currentTime: 0,
      known: new Set(),
    });
    expect(off).toEqual([]);
    expect(roomKey({ chatId: 'oc_1', threadId: 'omt_1' })).toBe('room:chat:oc_1:thread:omt_1');
  });

  it('formats one line per message under a heading', () => {
    const text = formatRoom([{ messageId: 'om_1', author: 'Ann', text: 'ship it?', at: Date.UTC(2026, 0, 2, 3, 4) }]);
    expect(text.split('\n')[1]).toBe('[2026-01-02 03:04] Ann: ship it?');
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../config.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createConversationPolicy } from './policy.js';

const basePolicy: Config['policy'] = {
  allowedChatIds: [],
  allowedUserIds: [],
  userMessagesPerMinute: 2,
  chatMessagesPerMinute: 3,
  maxInputChars: 20,
};

describe('conversation policy', () => {
  let store: Store;
  let clock = 1_700_000_000_000;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    clock = 1_700_000_000_000;
  });
  afterEach(async () => {
    await store.close();
  });
  const make = (policy: Partial<Config['policy']> = {}) =>
    createConversationPolicy({ policy: { ...basePolicy, ...policy }, store, now: () => clock });

  it('allowlists are off when empty', async () => {
    expect(await make().evaluate({ chatId: 'oc_any', userId: 'ou_any', text: 'hi' })).toEqual({ action: 'allow' });
  });

  it('ignores chats and users outside the allowlists, silently', async () => {
    const policy = make({ allowedChatIds: ['oc_ok'], allowedUserIds: ['ou_ok'] });
    expect(await policy.evaluate({ chatId: 'oc_other', userId: 'ou_ok', text: 'hi' })).toEqual({
      action: 'ignore',
      reason: 'chat not allowed',
    });
    expect(await policy.evaluate({ chatId: 'oc_ok', userId: 'ou_other', text: 'hi' })).toEqual({
      action: 'ignore',
      reason: 'user not allowed',
    });
    expect(await policy.evaluate({ chatId: 'oc_ok', userId: 'ou_ok', text: 'hi' })).toEqual({ action: 'allow' });
    expect(await policy.evaluate({ chatId: 'oc_x', userId: 'ou_x', text: 'hi', source: 'devtools' })).toEqual({
      action: 'allow',
    });
  });

  it('rate-limits a user: one friendly reply, then silence, then a fresh window', async () => {
    const policy = make();
    const ask = () => policy.evaluate({ chatId: 'oc_1', userId: 'ou_fast', text: 'hi' });
    expect((await ask()).action).toBe('allow');
    expect((await ask()).action).toBe('allow');
    const third = await ask();
    expect(third).toMatchObject({ action: 'reply', reason: 'user rate limited' });
    expect(third.action === 'reply' && third.text).toMatch(/at most 2 a minute/);
    expect(await ask()).toEqual({ action: 'ignore', reason: 'user rate limited' });
    clock += 60_000;
    expect((await ask()).action).toBe('allow');
  });

  it('counts a message once: a resumed attempt is neither counted nor refused, but allowlists still apply', async () => {
    const policy = make({ allowedChatIds: ['oc_1'] });
    const ask = (alreadyAdmitted: boolean) =>
      policy.evaluate({ chatId: 'oc_1', userId: 'ou_resumed', text: 'hi', alreadyAdmitted });
    expect((await ask(false)).action).toBe('allow');
    expect((await ask(false)).action).toBe('allow');
    // The limit is reached; the same two messages resumed after a restart still go through …
    expect((await ask(true)).action).toBe('allow');
    expect((await ask(true)).action).toBe('allow');
    // … without using up the window: the next new message is the first one over the limit.
    expect(await ask(false)).toMatchObject({ action: 'reply', reason: 'user rate limited' });
    expect(
      await policy.evaluate({ chatId: 'oc_2', userId: 'ou_resumed', text: 'hi', alreadyAdmitted: true }),
    ).toMatchObject({ action: 'ignore', reason: 'chat not allowed' });
  });

  it('rate-limits a chat across users', async () => {
    const policy = make({ userMessagesPerMinute: 100 });
    for (const user of ['a', 'b', 'c'])
      expect((await policy.evaluate({ chatId: 'oc_busy', userId: user, text: 'x' })).action).toBe('allow');
    expect(await policy.evaluate({ chatId: 'oc_busy', userId: 'd', text: 'x' })).toMatchObject({
      action: 'reply',
      reason: 'chat rate limited',
    });
    expect((await policy.evaluate({ chatId: 'oc_quiet', userId: 'd', text: 'x' })).action).toBe('allow');
  });

  it('replies kindly to a message that is too long (counting characters, not bytes)', async () => {
    const policy = make({ userMessagesPerMinute: 100, chatMessagesPerMinute: 100 });
    expect((await policy.evaluate({ chatId: 'c', userId: 'u', text: '你'.repeat(20) })).action).toBe('allow');
    const verdict = await policy.evaluate({ chatId: 'c', userId: 'u', text: 'x'.repeat(21) });
    expect(verdict).toMatchObject({ action: 'reply', reason: 'input too long' });
    expect(verdict.action === 'reply' && verdict.text).toMatch(/21 characters; the limit is 20/);
  });
});

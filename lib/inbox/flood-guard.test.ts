import { describe, expect, it } from 'vitest';
import { createFloodGuard } from './flood-guard.js';

describe('createFloodGuard', () => {
  const T0 = 1_700_000_040_000;

  it('passes a chat up to its cap per window, drops beyond it, and starts over in the next window', () => {
    const guard = createFloodGuard({ perChat: 3, perUser: 100 });
    const verdicts = Array.from({ length: 5 }, (_, index) => guard.admit('oc_flood', `ou_${index}`, T0));
    expect(verdicts).toEqual(['ok', 'ok', 'ok', 'chat', 'chat']);
    expect(guard.admit('oc_other', 'ou_x', T0)).toBe('ok');
    expect(guard.admit('oc_flood', 'ou_0', T0 + 60_000)).toBe('ok');
  });

  it('caps one sender across chats', () => {
    const guard = createFloodGuard({ perChat: 100, perUser: 2 });
    const verdicts = ['oc_a', 'oc_b', 'oc_c'].map((chat) => guard.admit(chat, 'ou_flooder', T0));
    expect(verdicts).toEqual(['ok', 'ok', 'user']);
    expect(guard.admit('oc_c', 'ou_someone_else', T0)).toBe('ok');
  });

  it('tracks at most maxKeys chats and users, forgetting the oldest', () => {
    const guard = createFloodGuard({ perChat: 1, perUser: 100, maxKeys: 4 });
    expect(guard.admit('oc_1', undefined, T0)).toBe('ok');
    for (let chat = 2; chat <= 5; chat++) guard.admit(`oc_${chat}`, undefined, T0);
    // oc_1 was forgotten to make room, so its count starts again.
    expect(guard.admit('oc_1', undefined, T0)).toBe('ok');
    expect(guard.admit('oc_5', undefined, T0)).toBe('chat');
  });

  it('does not count a released admission (a duplicate stores nothing)', () => {
    const guard = createFloodGuard({ perChat: 2, perUser: 100 });
    for (let delivery = 0; delivery < 5; delivery++) {
      expect(guard.admit('oc_a', 'ou_1', T0)).toBe('ok');
      guard.release('oc_a', 'ou_1', T0);
    }
    expect(guard.admit('oc_a', 'ou_1', T0)).toBe('ok');
    expect(guard.admit('oc_a', 'ou_1', T0)).toBe('ok');
    expect(guard.admit('oc_a', 'ou_1', T0)).toBe('chat');
  });
});

/** Which limit a message passed, if any. */
export type FloodVerdict = 'ok' | 'chat' | 'user';

export interface FloodGuard {
  /** Counts one message of `chatId` from `userId` at `at`, and says whether it is past a cap. */
  admit(chatId: string, userId: string | undefined, at: number): FloodVerdict;
  /** Takes back an `admit` that stored nothing (a duplicate, a failed write): it does not count. */
  release(chatId: string, userId: string | undefined, at: number): void;
}

export interface FloodGuardOptions {
  /** Most messages one chat may have stored per window; beyond it they are acked and dropped. */
  perChat: number;
  /** The same for one sender, across chats. */
  perUser: number;
  windowMs?: number;
  /** Chats and users tracked at once; the oldest are forgotten first (a bound, not a limit). */
  maxKeys?: number;
}

/**
 * A hard cap at the door on what one chat or one sender can make the bot store, in fixed windows
 * (as the conversation's rate limits count, so both see the same minutes). The rate limits
 * decide later which messages get an answer, but every message is a stored job until then:
 * without a cap at admission, one flooding chat fills the disk and the backlog, and every other
 * chat gets "busy" notices. In memory and per process, so it costs the ack nothing; the rate
 * limits in the store stay the exact, cross-instance rule.
 *
 * @example
 * const guard = createFloodGuard({ perChat: 40, perUser: 20 });
 * if (guard.admit(chatId, userId, Date.now()) !== 'ok') return ackAndDrop();
 */
export function createFloodGuard({
  perChat,
  perUser,
  windowMs = 60_000,
  maxKeys = 10_000,
}: FloodGuardOptions): FloodGuard {
  const counts = new Map<string, { window: number; count: number }>();

  function count(key: string, window: number): number {
    const entry = counts.get(key);
    if (entry !== undefined && entry.window === window) {
      entry.count += 1;
      return entry.count;
    }
    counts.delete(key);
    if (counts.size >= maxKeys) {
      // Insertion order: the first key is the one least recently started a window.
      const oldest = counts.keys().next().value;
      if (oldest !== undefined) counts.delete(oldest);
    }
    counts.set(key, { window, count: 1 });
    return 1;
  }

  function uncount(key: string, window: number): void {
    const entry = counts.get(key);
    if (entry !== undefined && entry.window === window && entry.count > 0) entry.count -= 1;
  }

  return {
    release(chatId, userId, at) {
      const window = Math.floor(at / windowMs);
      uncount(`chat:${chatId}`, window);
      if (userId !== undefined) uncount(`user:${userId}`, window);
    },
    admit(chatId, userId, at) {
      const window = Math.floor(at / windowMs);
      // Both are counted either way: a sender flooding many chats is still one sender.
      const chat = count(`chat:${chatId}`, window);
      const user = userId === undefined ? 0 : count(`user:${userId}`, window);
      if (chat > perChat) return 'chat';
      if (user > perUser) return 'user';
      return 'ok';
    },
  };
}

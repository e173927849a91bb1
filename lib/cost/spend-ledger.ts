import type { Store } from '../store/store.js';
import { dayOf, nextDayStart } from './budget-day.js';

/** Whose spend: the chat the question came from and the person who asked. */
export interface SpendSubject {
  chatId: string;
  userId: string;
}

export interface SpentToday {
  /** Millionths of a dollar spent today in the chat and by the user. */
  chatMicros: number;
  userMicros: number;
  /** The day in the ledger's time zone (YYYY-MM-DD) and when it ends (ms). */
  day: string;
  resetsAt: number;
}

export interface SpendLedger {
  /** Adds one call's cost to today's totals of the chat and of the user. */
  record(subject: SpendSubject, micros: number, at?: number): Promise<void>;
  spentToday(subject: SpendSubject, at?: number): Promise<SpentToday>;
  readonly timeZone: string;
}

export interface SpendLedgerOptions {
  store: Pick<Store, 'addToTotal'>;
  /** Budgets reset at midnight here (BUDGET_TIME_ZONE). */
  timeZone?: string;
  /** Separates apps that share a store. */
  appId?: string;
  /** How long a day's totals are kept after their first addition; two days covers any zone. */
  keepMs?: number;
  now?: () => number;
}

/**
 * Today's spend per chat and per user, kept in the store so it holds across restarts and
 * instances: one running total per chat, user and day, in millionths of a dollar (exact integer
 * sums; a cent is 10 000).
 *
 * @example
 * const ledger = createSpendLedger({ store, timeZone: 'Asia/Shanghai' });
 * await ledger.record({ chatId, userId }, 450);
 * (await ledger.spentToday({ chatId, userId })).chatMicros; // 450
 */
export function createSpendLedger({
  store,
  timeZone = 'UTC',
  appId = 'default',
  keepMs = 2 * 86_400_000,
  now = Date.now,
}: SpendLedgerOptions): SpendLedger {
  const keys = ({ chatId, userId }: SpendSubject, day: string) => ({
    chat: `spend:${appId}:chat:${chatId}:${day}`,
    user: `spend:${appId}:user:${userId}:${day}`,
  });

  return {
    timeZone,
    async record(subject, micros, at = now()) {
      const amount = Math.round(micros);
      if (!(amount > 0)) return;
      const key = keys(subject, dayOf(at, timeZone));
      await Promise.all([
        store.addToTotal(key.chat, amount, keepMs, at),
        subject.userId === '' ? undefined : store.addToTotal(key.user, amount, keepMs, at),
      ]);
    },
    async spentToday(subject, at = now()) {
      const day = dayOf(at, timeZone);
      const key = keys(subject, day);
      const [chatMicros, userMicros] = await Promise.all([
        store.addToTotal(key.chat, 0, keepMs, at),
        subject.userId === '' ? 0 : store.addToTotal(key.user, 0, keepMs, at),
      ]);
      return { chatMicros, userMicros, day, resetsAt: nextDayStart(at, timeZone) };
    },
  };
}

import type { Store, TallyAddition } from '../store/store.js';
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

/** What the operator's spend view breaks a day's spend down by (besides the app). */
export type SpendDimension = 'chat' | 'user' | 'model';

/**
 * The store tally of one app's spend on one day by chat, person or model; `app` names the tally
 * of every app's total that day. Members are ids (chat, open id, model name, app id).
 */
export function spendTally(day: string, by: SpendDimension | 'app', appId?: string): string {
  return by === 'app' ? `spend:${day}:app` : `spend:${appId ?? 'default'}:${day}:${by}`;
}

export interface SpendLedger {
  /**
   * Adds one call's cost to today's totals of the chat and of the user (for the budgets), and to
   * the day's tallies by chat, person, model and app (for the operator's view).
   */
  record(subject: SpendSubject & { model?: string | undefined }, micros: number, at?: number): Promise<void>;
  spentToday(subject: SpendSubject, at?: number): Promise<SpentToday>;
  readonly timeZone: string;
}

export interface SpendLedgerOptions {
  store: Pick<Store, 'addToTotal' | 'addToTallies'>;
  /** Budgets reset at midnight here (BUDGET_TIME_ZONE). */
  timeZone?: string;
  /** Separates apps that share a store. */
  appId?: string;
  /** How long a day's totals are kept after their first addition; two days covers any zone. */
  keepMs?: number;
  /** How long a day's tallies (the operator's view) are kept: a week, and a day for any zone. */
  keepTalliesMs?: number;
  now?: () => number;
}

/**
 * Today's spend per chat and per user, kept in the store so it holds across restarts and
 * instances: one running total per chat, user and day, in millionths of a dollar (exact integer
 * sums; a cent is 10 000). Each day's spend by app, chat, person and model also goes into store
 * tallies kept about a week, which the devtools' Spend tab reads (spend-report.ts).
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
  keepTalliesMs = 9 * 86_400_000,
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
      const day = dayOf(at, timeZone);
      const key = keys(subject, day);
      const tallies: TallyAddition[] = [
        { tally: spendTally(day, 'app'), member: appId, amount },
        { tally: spendTally(day, 'chat', appId), member: subject.chatId, amount },
      ];
      if (subject.userId !== '')
        tallies.push({ tally: spendTally(day, 'user', appId), member: subject.userId, amount });
      if (subject.model) tallies.push({ tally: spendTally(day, 'model', appId), member: subject.model, amount });
      await Promise.all([
        store.addToTotal(key.chat, amount, keepMs, at),
        subject.userId === '' ? undefined : store.addToTotal(key.user, amount, keepMs, at),
        store.addToTallies(tallies, keepTalliesMs, at),
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

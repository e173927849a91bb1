import type { Store } from '../store/store.js';
import { dayOf, daysUpTo } from './budget-day.js';
import { type SpendDimension, spendTally } from './spend-ledger.js';

/** One chat, person or model and what it spent, in micros. */
export interface SpendLine {
  id: string;
  micros: number;
}

/** One app's spend on one day, and its biggest spenders by chat, person and model. */
export interface AppSpend {
  app: string;
  micros: number;
  chats: SpendLine[];
  users: SpendLine[];
  models: SpendLine[];
}

export interface DaySpend {
  /** YYYY-MM-DD in the budget time zone. */
  day: string;
  micros: number;
  apps: AppSpend[];
}

export interface SpendReport {
  timeZone: string;
  /** Today first. */
  days: DaySpend[];
}

export interface SpendReportOptions {
  store: Pick<Store, 'readTally'>;
  /** The ledger's zone (BUDGET_TIME_ZONE): its days are the report's days. */
  timeZone: string;
  now?: () => number;
}

/** Apps listed per day at most (a deployment serves a few). */
const MAX_APPS = 20;

/**
 * Who spent what, read from the spend ledger's tallies in the store (so every instance's spend
 * is in it): per day, per app, the biggest chats, people and models.
 *
 * @example
 * const report = createSpendReport({ store, timeZone: 'Asia/Shanghai' });
 * const { days } = await report.read({ days: 7, limit: 20 });
 */
export function createSpendReport({ store, timeZone, now = Date.now }: SpendReportOptions): {
  read(options: { days: number; limit: number }): Promise<SpendReport>;
} {
  async function readDay(day: string, limit: number, at: number): Promise<DaySpend> {
    const lines = async (by: SpendDimension, app: string): Promise<SpendLine[]> =>
      (await store.readTally(spendTally(day, by, app), limit, at)).map(({ member, total }) => ({
        id: member,
        micros: total,
      }));
    const apps = await Promise.all(
      (await store.readTally(spendTally(day, 'app'), MAX_APPS, at)).map(
        async ({ member: app, total }): Promise<AppSpend> => {
          const [chats, users, models] = await Promise.all([
            lines('chat', app),
            lines('user', app),
            lines('model', app),
          ]);
          return { app, micros: total, chats, users, models };
        },
      ),
    );
    return { day, micros: apps.reduce((sum, app) => sum + app.micros, 0), apps };
  }

  return {
    async read({ days, limit }) {
      const at = now();
      const recent = daysUpTo(dayOf(at, timeZone), days);
      return { timeZone, days: await Promise.all(recent.map((day) => readDay(day, limit, at))) };
    },
  };
}

import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { daysUpTo } from './budget-day.js';
import { createSpendLedger } from './spend-ledger.js';
import { createSpendReport } from './spend-report.js';

describe('spend report', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('breaks each recent day down by app, chat, person and model, biggest first', async () => {
    const store = openSqliteStore(':memory:');
    stores.push(store);
    const timeZone = 'Asia/Shanghai';
    const alpha = createSpendLedger({ store, timeZone, appId: 'alpha' });
    const beta = createSpendLedger({ store, timeZone, appId: 'beta' });
    const today = Date.UTC(2026, 11, 7, 2); // 10:00 in Shanghai
    const yesterday = Date.UTC(2026, 11, 6, 15, 59); // 23:59 there the day before
    await alpha.record({ chatId: 'oc_team', userId: 'ou_alice', model: 'gpt-4o' }, 1_500_000, today);
    await alpha.record({ chatId: 'oc_team', userId: 'ou_bob', model: 'gpt-4o-mini' }, 20_000, today);
    await alpha.record({ chatId: 'oc_ops', userId: 'ou_bob', model: 'gpt-4o-mini' }, 30_000, today);
    await beta.record({ chatId: 'oc_team', userId: 'ou_alice', model: 'qwen-max' }, 5, today);
    await alpha.record({ chatId: 'oc_old', userId: 'ou_carol', model: 'gpt-4o' }, 10_000, yesterday);

    const report = await createSpendReport({ store, timeZone, now: () => today }).read({ days: 3, limit: 10 });
    expect(report.timeZone).toBe(timeZone);
    expect(report.days.map((day) => [day.day, day.micros])).toEqual([
      ['2026-12-07', 1_550_005],
      ['2026-12-06', 10_000],
      ['2026-12-05', 0],
    ]);
    expect(report.days[0]?.apps).toEqual([
      {
        app: 'alpha',
        micros: 1_550_000,
        chats: [
          { id: 'oc_team', micros: 1_520_000 },
          { id: 'oc_ops', micros: 30_000 },
        ],
        users: [
          { id: 'ou_alice', micros: 1_500_000 },
          { id: 'ou_bob', micros: 50_000 },
        ],
        models: [
          { id: 'gpt-4o', micros: 1_500_000 },
          { id: 'gpt-4o-mini', micros: 50_000 },
        ],
      },
      {
        app: 'beta',
        micros: 5,
        chats: [{ id: 'oc_team', micros: 5 }],
        users: [{ id: 'ou_alice', micros: 5 }],
        models: [{ id: 'qwen-max', micros: 5 }],
      },
    ]);
    // Only the biggest spenders up to the limit.
    const top = await createSpendReport({ store, timeZone, now: () => today }).read({ days: 1, limit: 1 });
    expect(top.days[0]?.apps[0]?.chats).toEqual([{ id: 'oc_team', micros: 1_520_000 }]);
  });

  it('counts calendar days back, whatever the length of a day in the zone', () => {
    expect(daysUpTo('2026-03-01', 3)).toEqual(['2026-03-01', '2026-02-28', '2026-02-27']);
    expect(daysUpTo('2026-01-01', 2)).toEqual(['2026-01-01', '2025-12-31']);
    expect(daysUpTo('2026-11-02', 0)).toEqual([]);
  });
});

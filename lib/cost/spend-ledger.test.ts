import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createBudgetGuard } from './budget-guard.js';
import { createSpendLedger } from './spend-ledger.js';

describe('spend ledger and budget guard on a real store', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  function ledgerAt(timeZone: string) {
    const store = openSqliteStore(':memory:');
    stores.push(store);
    return createSpendLedger({ store, timeZone });
  }
  const alice = { chatId: 'oc_team', userId: 'ou_alice' };
  const bob = { chatId: 'oc_team', userId: 'ou_bob' };

  it('adds each call to the chat and to the person, per day of the zone', async () => {
    const ledger = ledgerAt('Asia/Shanghai');
    const evening = Date.UTC(2026, 11, 6, 15, 0); // 23:00 in Shanghai
    await ledger.record(alice, 450, evening);
    await ledger.record(bob, 50, evening);
    expect(await ledger.spentToday(alice, evening)).toEqual({
      chatMicros: 500,
      userMicros: 450,
      day: '2026-12-06',
      resetsAt: Date.UTC(2026, 11, 6, 16),
    });
    // One hour later it is a new day there: nothing spent yet.
    const nextDay = evening + 3_600_000;
    expect(await ledger.spentToday(alice, nextDay)).toMatchObject({ chatMicros: 0, userMicros: 0, day: '2026-12-07' });
  });

  it('refuses past a person budget before a chat budget, and says when it resets', async () => {
    const ledger = ledgerAt('UTC');
    const at = Date.UTC(2026, 11, 6, 21, 30);
    const guard = createBudgetGuard({ ledger, budgets: { perChatUsd: 1, perUserUsd: 0.5 } });
    expect(await guard.check(alice, at)).toBeUndefined();
    await ledger.record(alice, 500_000, at);
    expect(await guard.check(alice, at)).toMatchObject({
      scope: 'user',
      text: "You have used today's budget for questions to me ($0.50). It resets at 00:00 UTC (in 2 h 30 min).",
    });
    expect(await guard.check(bob, at)).toBeUndefined();
    await ledger.record(bob, 500_000, at);
    expect(await guard.check({ chatId: 'oc_team', userId: 'ou_carol' }, at)).toMatchObject({
      scope: 'chat',
      reason: 'chat over daily budget',
    });
    expect(await guard.check({ chatId: 'oc_other', userId: 'ou_carol' }, at)).toBeUndefined();
  });

  it("checks a chat's own budgets when the chat has them, over the configured ones", async () => {
    const ledger = ledgerAt('UTC');
    const at = Date.UTC(2026, 11, 6, 23, 0);
    const own = new Map([['oc_tight', { chatMicros: 250_000, userMicros: 0 }]]);
    const guard = createBudgetGuard({
      ledger,
      budgets: { perChatUsd: 1 },
      budgetsFor: async (chatId) => own.get(chatId) ?? { chatMicros: 1_000_000, userMicros: 0 },
    });
    await ledger.record({ chatId: 'oc_tight', userId: 'ou_alice' }, 250_000, at);
    await ledger.record({ chatId: 'oc_team', userId: 'ou_alice' }, 250_000, at);
    expect(await guard.check({ chatId: 'oc_tight', userId: 'ou_bob' }, at, 'zh')).toMatchObject({
      scope: 'chat',
      budgetMicros: 250_000,
      text: '本群今天向我提问的预算（$0.25）已用完，将于 UTC 时间 00:00 重置（1 小时 0 分钟后）。',
    });
    expect(await guard.check({ chatId: 'oc_team', userId: 'ou_bob' }, at)).toBeUndefined();
  });

  it('checks nothing when no budget is set', async () => {
    const ledger = ledgerAt('UTC');
    await ledger.record(alice, 10_000_000_000);
    expect(await createBudgetGuard({ ledger, budgets: {} }).check(alice)).toBeUndefined();
  });
});

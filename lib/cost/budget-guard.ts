import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { SpendLedger, SpendSubject } from './spend-ledger.js';

/** Daily budgets in USD; undefined or 0 means no budget. */
export interface DailyBudgets {
  perChatUsd?: number | undefined;
  perUserUsd?: number | undefined;
}

/** Why a question is not answered: whose budget is used up, and when it resets. */
export interface BudgetRefusal {
  scope: 'chat' | 'user';
  reason: 'chat over daily budget' | 'user over daily budget';
  budgetUsd: number;
  resetsAt: number;
  text: string;
}

export interface BudgetGuard {
  /** A refusal when the chat's or the user's spend today reached its budget; undefined otherwise. */
  check(subject: SpendSubject, at?: number, language?: Language): Promise<BudgetRefusal | undefined>;
}

export interface BudgetGuardOptions {
  ledger: SpendLedger;
  budgets: DailyBudgets;
  now?: () => number;
}

function refusalText(
  scope: 'chat' | 'user',
  budgetUsd: number,
  { resetsAt, at, timeZone, language }: { resetsAt: number; at: number; timeZone: string; language: Language },
): string {
  const clock = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(resetsAt);
  const minutes = Math.max(1, Math.ceil((resetsAt - at) / 60_000));
  const hours = Math.floor(minutes / 60);
  return textsFor(language).limits.overBudget(
    scope,
    `$${budgetUsd.toFixed(2)}`,
    clock,
    timeZone,
    hours,
    minutes - hours * 60,
  );
}

/**
 * Daily budgets per chat and per user (DAILY_BUDGET_USD_PER_CHAT / _PER_USER), checked before the
 * agent runs. A question past a budget gets a short notice saying when the budget resets; the
 * answer already running when a budget is crossed finishes (cutting it mid-card helps nobody).
 *
 * @example
 * const guard = createBudgetGuard({ ledger, budgets: { perChatUsd: 5 } });
 * const refusal = await guard.check({ chatId, userId });
 * if (refusal) await sink.finish(refusal.text);
 */
export function createBudgetGuard({ ledger, budgets, now = Date.now }: BudgetGuardOptions): BudgetGuard {
  const chatBudget = budgets.perChatUsd ?? 0;
  const userBudget = budgets.perUserUsd ?? 0;
  return {
    async check(subject, at = now(), language = 'en') {
      if (chatBudget <= 0 && userBudget <= 0) return undefined;
      const spent = await ledger.spentToday(subject, at);
      const when = { resetsAt: spent.resetsAt, at, timeZone: ledger.timeZone, language };
      if (userBudget > 0 && spent.userMicros >= userBudget * 1_000_000) {
        return {
          scope: 'user',
          reason: 'user over daily budget',
          budgetUsd: userBudget,
          resetsAt: spent.resetsAt,
          text: refusalText('user', userBudget, when),
        };
      }
      if (chatBudget > 0 && spent.chatMicros >= chatBudget * 1_000_000) {
        return {
          scope: 'chat',
          reason: 'chat over daily budget',
          budgetUsd: chatBudget,
          resetsAt: spent.resetsAt,
          text: refusalText('chat', chatBudget, when),
        };
      }
      return undefined;
    },
  };
}

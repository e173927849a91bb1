import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { SpendLedger, SpendSubject } from './spend-ledger.js';
import { formatUsd, usdToMicros } from './usd-amount.js';

/** Daily budgets in USD; undefined or 0 means no budget. */
export interface DailyBudgets {
  perChatUsd?: number | undefined;
  perUserUsd?: number | undefined;
}

/** The budgets in effect in one chat, in millionths of a dollar; 0 means no budget. */
export interface ChatBudgets {
  chatMicros: number;
  userMicros: number;
}

/** Why a question is not answered: whose budget is used up, and when it resets. */
export interface BudgetRefusal {
  scope: 'chat' | 'user';
  reason: 'chat over daily budget' | 'user over daily budget';
  budgetMicros: number;
  resetsAt: number;
  text: string;
}

export interface BudgetGuard {
  /** A refusal when the chat's or the user's spend today reached its budget; undefined otherwise. */
  check(subject: SpendSubject, at?: number, language?: Language): Promise<BudgetRefusal | undefined>;
}

export interface BudgetGuardOptions {
  ledger: SpendLedger;
  /** The configured budgets, for chats without budgets of their own. */
  budgets: DailyBudgets;
  /** The budgets in effect in a chat (its admins' settings over the configured ones). */
  budgetsFor?: ((chatId: string) => Promise<ChatBudgets>) | undefined;
  now?: () => number;
}

function refusalText(
  scope: 'chat' | 'user',
  budgetMicros: number,
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
    formatUsd(budgetMicros),
    clock,
    timeZone,
    hours,
    minutes - hours * 60,
  );
}

/**
 * Daily budgets per chat and per user (DAILY_BUDGET_USD_PER_CHAT / _PER_USER, or what a chat's
 * admins set within the operator's ceiling), checked before the agent runs. A question past a budget gets a short notice saying when the budget resets; the
 * answer already running when a budget is crossed finishes (cutting it mid-card helps nobody).
 *
 * @example
 * const guard = createBudgetGuard({ ledger, budgets: { perChatUsd: 5 } });
 * const refusal = await guard.check({ chatId, userId });
 * if (refusal) await sink.finish(refusal.text);
 */
export function createBudgetGuard({ ledger, budgets, budgetsFor, now = Date.now }: BudgetGuardOptions): BudgetGuard {
  const configured: ChatBudgets = {
    chatMicros: usdToMicros(budgets.perChatUsd ?? 0),
    userMicros: usdToMicros(budgets.perUserUsd ?? 0),
  };
  return {
    async check(subject, at = now(), language = 'en') {
      const { chatMicros, userMicros } = budgetsFor === undefined ? configured : await budgetsFor(subject.chatId);
      if (chatMicros <= 0 && userMicros <= 0) return undefined;
      const spent = await ledger.spentToday(subject, at);
      const when = { resetsAt: spent.resetsAt, at, timeZone: ledger.timeZone, language };
      if (userMicros > 0 && spent.userMicros >= userMicros) {
        return {
          scope: 'user',
          reason: 'user over daily budget',
          budgetMicros: userMicros,
          resetsAt: spent.resetsAt,
          text: refusalText('user', userMicros, when),
        };
      }
      if (chatMicros > 0 && spent.chatMicros >= chatMicros) {
        return {
          scope: 'chat',
          reason: 'chat over daily budget',
          budgetMicros: chatMicros,
          resetsAt: spent.resetsAt,
          text: refusalText('chat', chatMicros, when),
        };
      }
      return undefined;
    },
  };
}

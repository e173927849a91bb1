import type { Config } from '../config.js';
import type { BudgetGuard } from '../cost/budget-guard.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import { appScoped } from '../inbox/app-scope.js';
import type { Store } from '../store/store.js';

/** What to do with a message before the agent sees it. */
export type PolicyVerdict =
  | { action: 'allow' }
  /** Drop silently (not allowed here, or already told about the rate limit). */
  | { action: 'ignore'; reason: string }
  /**
   * Do not run the agent; answer with this friendly text instead. `answersOnly`: the refusal is
   * about model spend, so commands (which call no model) still run.
   */
  | { action: 'reply'; reason: string; text: string; answersOnly?: true };

export interface PolicySubject {
  /** The app (bot) asked: each app counts its own rate limits. */
  appId?: string | undefined;
  chatId: string;
  userId: string;
  text: string;
  /** Devtools playground messages skip the allowlists: only operators reach it. */
  source?: 'webhook' | 'websocket' | 'devtools';
  /**
   * True when an earlier attempt of this job already passed the rate limits (a resumed or
   * retried job): the message is counted once, so a restart cannot turn an admitted question
   * into a rate-limit refusal.
   */
  alreadyAdmitted?: boolean;
  /** The language of a refusal's text; absent: English. */
  language?: Language | undefined;
}

export interface ConversationPolicy {
  evaluate(subject: PolicySubject): Promise<PolicyVerdict>;
}

export interface ConversationPolicyOptions {
  policy: Config['policy'];
  store: Store;
  /** Daily budgets per chat and user; without one nothing is refused for spend. */
  budget?: BudgetGuard | undefined;
  /** Rate-limit window (the limits are "per minute"). */
  windowMs?: number;
  now?: () => number;
}

/**
 * Rule 1 of the policy on its own: ALLOWED_CHAT_IDS / ALLOWED_USER_IDS, off when empty. The busy
 * notice applies it too (it is no answer to someone who may not talk to the bot).
 */
export function createAllowlists(policy: Pick<Config['policy'], 'allowedChatIds' | 'allowedUserIds'>): {
  check(
    subject: Pick<PolicySubject, 'chatId' | 'userId' | 'source'>,
  ): (PolicyVerdict & { action: 'ignore' }) | undefined;
} {
  const chats = new Set(policy.allowedChatIds);
  const users = new Set(policy.allowedUserIds);
  return {
    check({ chatId, userId, source }) {
      if (source === 'devtools') return undefined;
      if (chats.size > 0 && !chats.has(chatId)) return { action: 'ignore', reason: 'chat not allowed' };
      if (users.size > 0 && !users.has(userId)) return { action: 'ignore', reason: 'user not allowed' };
      return undefined;
    },
  };
}

/**
 * Rule 2 of the policy on its own: the per-user then per-chat rate limits. The busy notice and
 * the "cannot read this" notice count against them too, so a flood of messages cannot turn into
 * a flood of notices. Returns the verdict for a message over a limit, undefined within them.
 *
 * @example
 * const limited = await rateLimits.check({ chatId, userId });
 * if (limited?.action === 'reply') await sink.finish(limited.text);
 */
export function createRateLimits({
  policy,
  store,
  windowMs = 60_000,
  now = Date.now,
}: Pick<ConversationPolicyOptions, 'store' | 'windowMs' | 'now'> & {
  policy: Pick<Config['policy'], 'userMessagesPerMinute' | 'chatMessagesPerMinute'>;
}): RateLimits {
  async function overLimit(key: string, limit: number): Promise<'ok' | 'first' | 'again'> {
    const count = await store.incrementCounter(key, windowMs, now());
    if (count <= limit) return 'ok';
    return count === limit + 1 ? 'first' : 'again';
  }

  return {
    async check({ appId, chatId, userId, language = 'en' }) {
      const { limits } = textsFor(language);
      const user = await overLimit(appScoped(appId, `rate:user:${userId}`), policy.userMessagesPerMinute);
      if (user !== 'ok') {
        return user === 'first'
          ? {
              action: 'reply',
              reason: 'user rate limited',
              text: limits.userRate(policy.userMessagesPerMinute),
            }
          : { action: 'ignore', reason: 'user rate limited' };
      }
      const chat = await overLimit(appScoped(appId, `rate:chat:${chatId}`), policy.chatMessagesPerMinute);
      if (chat !== 'ok') {
        return chat === 'first'
          ? {
              action: 'reply',
              reason: 'chat rate limited',
              text: limits.chatRate(policy.chatMessagesPerMinute),
            }
          : { action: 'ignore', reason: 'chat rate limited' };
      }

      return undefined;
    },
  };
}

export interface RateLimits {
  check(subject: Pick<PolicySubject, 'appId' | 'chatId' | 'userId' | 'language'>): Promise<PolicyVerdict | undefined>;
}

/**
 * Access and fairness rules, in order:
 * 1. Allowlists of chats and users (ALLOWED_CHAT_IDS, ALLOWED_USER_IDS): off when empty; a message
 *    from elsewhere is ignored silently (a bot that answers "not allowed" in every chat it is
 *    added to is spam).
 * 2. Per-user then per-chat rate limits (USER_/CHAT_MESSAGES_PER_MINUTE) in fixed one-minute
 *    windows kept in the store, so they hold across restarts and instances. The first message over
 *    the limit in a window gets a friendly reply; later ones in the same window are ignored, so
 *    a flood does not make the bot flood back.
 * 3. Input length (MAX_INPUT_CHARS): a friendly reply asking to shorten it.
 * 4. Daily budgets (DAILY_BUDGET_USD_PER_CHAT / _PER_USER): a reply saying when the budget resets.
 *
 * @example
 * const verdict = await policy.evaluate({ chatId, userId, text });
 * if (verdict.action === 'reply') await sink.finish(verdict.text);
 */
export function createConversationPolicy({
  policy,
  store,
  budget,
  windowMs = 60_000,
  now = Date.now,
}: ConversationPolicyOptions): ConversationPolicy {
  const allowlists = createAllowlists(policy);

  const rateLimits = createRateLimits({ policy, store, windowMs, now });

  return {
    async evaluate({ appId, chatId, userId, text, source, alreadyAdmitted = false, language = 'en' }) {
      const refused = allowlists.check({ chatId, userId, source });
      if (refused) return refused;
      if (alreadyAdmitted) return { action: 'allow' };

      const limited = await rateLimits.check({ appId, chatId, userId, language });
      if (limited) return limited;

      const length = [...text].length;
      if (length > policy.maxInputChars) {
        return {
          action: 'reply',
          reason: 'input too long',
          text: textsFor(language).limits.tooLong(length, policy.maxInputChars),
        };
      }
      // Operators testing in the devtools playground are not the people budgets are for.
      const overBudget = source === 'devtools' ? undefined : await budget?.check({ chatId, userId }, now(), language);
      // An admin must still be able to raise a spent budget with /config, and /help must work.
      if (overBudget) return { action: 'reply', reason: overBudget.reason, text: overBudget.text, answersOnly: true };
      return { action: 'allow' };
    },
  };
}

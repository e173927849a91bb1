import type { Hono } from 'hono';
import type { ChatMembership } from '../conversation/chat-membership.js';
import { createSpendReport, type SpendReport } from '../cost/spend-report.js';
import { namesFor } from '../feishu/user-names.js';
import type { Store } from '../store/store.js';

/** What the devtools' Spend tab reads. */
export interface DevtoolsSpend {
  /** Recent days of the spend ledger (spend-report.ts). */
  report(options: { days: number; limit: number }): Promise<SpendReport>;
  /** Display names of people (Feishu contacts, cached). */
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
  /** Names of the chats the bot knows (from joining them), by chat id. */
  chatNames?: (() => Promise<ReadonlyMap<string, string>>) | undefined;
}

/** Chats whose names are read from their membership records at most. */
const MAX_CHAT_NAMES = 200;

/**
 * The Spend tab's sources in a running bot: the ledger's tallies in the store, chat names from
 * the membership records, people's names from the contacts cache.
 *
 * @example
 * devtoolsRoutes({ …, spend: devtoolsSpendOf({ store, timeZone, membership, resolveUserName }) });
 */
export function devtoolsSpendOf({
  store,
  timeZone,
  membership,
  resolveUserName,
}: {
  store: Pick<Store, 'readTally'>;
  timeZone: string;
  membership: Pick<ChatMembership, 'list'>;
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
}): DevtoolsSpend {
  const spend = createSpendReport({ store, timeZone });
  return {
    report: (options) => spend.read(options),
    resolveUserName,
    chatNames: async () =>
      new Map(
        (await membership.list(MAX_CHAT_NAMES)).flatMap((chat) =>
          chat.name === undefined ? [] : [[chat.chatId, chat.name] as const],
        ),
      ),
  };
}

/** Days and rows per list the API serves at most. */
const MAX_DAYS = 14;
const MAX_ROWS = 100;
/** People whose names are looked up per request at most (each is a contacts call when not cached). */
const MAX_NAMES = 100;

function boundedInteger(text: string | undefined, fallback: number, max: number): number {
  const value = text === undefined ? Number.NaN : Number(text);
  return Number.isSafeInteger(value) && value > 0 ? Math.min(value, max) : fallback;
}

/**
 * The devtools API of who spends what, under the devtools' token check (devtools-routes.ts):
 * `GET /api/spend?days=7&limit=20` answers, for today and the days before it in the budget time
 * zone, each app's spend and its biggest chats, people and models, in micros (millionths of a
 * dollar, exact integers), with display names of people and chats where known.
 *
 * @example
 * spendRoutes(app, { report: (options) => spendReport.read(options), resolveUserName });
 */
export function spendRoutes(app: Hono, { report, resolveUserName, chatNames }: DevtoolsSpend): void {
  app.get('/api/spend', async (c) => {
    const days = boundedInteger(c.req.query('days'), 7, MAX_DAYS);
    const limit = boundedInteger(c.req.query('limit'), 20, MAX_ROWS);
    const [spend, chats] = await Promise.all([report({ days, limit }), chatNames?.() ?? new Map<string, string>()]);
    const people = spend.days.flatMap((day) => day.apps.flatMap((each) => each.users.map((user) => user.id)));
    const names = await namesFor(people, resolveUserName, MAX_NAMES);
    return c.json({
      timeZone: spend.timeZone,
      days: spend.days.map((day) => ({
        ...day,
        apps: day.apps.map((each) => ({
          ...each,
          chats: each.chats.map((chat) => ({ ...chat, name: chats.get(chat.id) ?? null })),
          users: each.users.map((user) => ({ ...user, name: names.get(user.id) ?? null })),
        })),
      })),
    });
  });
}

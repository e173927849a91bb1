import type { Hono } from 'hono';
import type { ChatMembership } from '../conversation/chat-membership.js';
import { type ChatSettings, ChatSettingsError, chatOverridesSchema } from '../conversation/chat-settings.js';
import { namesFor } from '../feishu/user-names.js';

/** What the devtools' Chats tab reads and edits. */
export interface DevtoolsChats {
  settings: ChatSettings;
  membership: ChatMembership;
  /** Display names of the people who changed settings (Feishu contacts, cached). */
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
}

/** Each served Feishu app's chats by app id, the default (or first) app first. */
export type DevtoolsChatsByApp = ReadonlyMap<string, DevtoolsChats>;

/** Chats listed at most. */
const MAX_CHATS = 200;
/** Versions shown per chat. */
const MAX_VERSIONS = 50;
const CHAT_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The devtools API of per-chat settings, under the devtools' token check (devtools-routes.ts):
 *
 * - `GET /api/chats`: the chats with settings or a membership record, each with its settings in
 *   effect, plus the policy (allowed models, locks, tools, specialists, defaults);
 * - `GET /api/chats/:chatId`: one chat's stored values, settings in effect and version history;
 * - `POST /api/chats/:chatId/settings` `{ settings, expectedVersion }`: replaces the chat's
 *   stored values as the next version, by `devtools`; 409 when someone changed them meanwhile.
 *
 * Settings are kept per chat per app: each call reads and writes the app named by `?app=<id>`,
 * the first app when left out; an app not served is refused (400 `unknown_app`).
 *
 * @example
 * chatSettingsRoutes(app, new Map([['default', { settings, membership }]]));
 */
export function chatSettingsRoutes(app: Hono, chatsByApp: DevtoolsChatsByApp): void {
  const appIds = [...chatsByApp.keys()];
  /** The app a request names (`?app=`), or the first; undefined when it names one not served. */
  function appOf(requested: string | undefined): { appId: string; chats: DevtoolsChats } | undefined {
    const appId = requested ?? appIds[0];
    const chats = appId === undefined ? undefined : chatsByApp.get(appId);
    return appId === undefined || chats === undefined ? undefined : { appId, chats };
  }
  const unknownApp = { error: 'unknown_app', message: 'No such Feishu app is served' } as const;

  /** `changedBy` with the person's display name beside it (`devtools` and unknown ids stay as they are). */
  async function named<Row extends { changedBy: string | null }>(
    rows: Row[],
    resolveUserName: DevtoolsChats['resolveUserName'],
  ) {
    const names = await namesFor(
      rows.map((row) => row.changedBy ?? ''),
      resolveUserName,
    );
    return rows.map((row) => ({ ...row, changedByName: (row.changedBy && names.get(row.changedBy)) ?? row.changedBy }));
  }

  app.get('/api/chats', async (c) => {
    const chosen = appOf(c.req.query('app'));
    if (chosen === undefined) return c.json(unknownApp, 400);
    const { settings, membership, resolveUserName } = chosen.chats;
    const [versions, members] = await Promise.all([settings.list(MAX_CHATS), membership.list(MAX_CHATS)]);
    const ids = [...new Set([...versions.map((version) => version.chatId), ...members.map((member) => member.chatId)])];
    const rows = await Promise.all(
      ids.slice(0, MAX_CHATS).map(async (chatId) => {
        const newest = versions.find((version) => version.chatId === chatId);
        const member = members.find((each) => each.chatId === chatId);
        return {
          chatId,
          name: member?.name ?? null,
          membership: member?.state ?? null,
          effective: await settings.effective(chatId),
          changedBy: newest?.changedBy ?? null,
          change: newest?.change ?? null,
          changedAt: newest?.at ?? null,
        };
      }),
    );
    return c.json({
      app: chosen.appId,
      apps: appIds,
      chats: await named(rows, resolveUserName),
      policy: settings.policy,
    });
  });

  app.get('/api/chats/:chatId', async (c) => {
    const chatId = c.req.param('chatId');
    if (!CHAT_ID.test(chatId)) return c.json({ error: 'bad_chat_id', message: 'Not a chat id' }, 400);
    const chosen = appOf(c.req.query('app'));
    if (chosen === undefined) return c.json(unknownApp, 400);
    const { settings, resolveUserName } = chosen.chats;
    const [stored, effective, history] = await Promise.all([
      settings.stored(chatId),
      settings.effective(chatId),
      settings.history(chatId, MAX_VERSIONS),
    ]);
    return c.json({
      chatId,
      stored: stored.overrides,
      version: stored.version,
      effective,
      history: await named(history, resolveUserName),
    });
  });

  app.post('/api/chats/:chatId/settings', async (c) => {
    const chatId = c.req.param('chatId');
    if (!CHAT_ID.test(chatId)) return c.json({ error: 'bad_chat_id', message: 'Not a chat id' }, 400);
    const chosen = appOf(c.req.query('app'));
    if (chosen === undefined) return c.json(unknownApp, 400);
    const { settings } = chosen.chats;
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'bad_json', message: 'The body is not JSON' }, 400);
    }
    const request = body as { settings?: unknown; expectedVersion?: unknown } | null;
    const parsed = chatOverridesSchema.safeParse(request?.settings ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((issue) => `${issue.path.join('.') || 'settings'}: ${issue.message}`)
        .join('; ');
      return c.json({ error: 'bad_settings', message }, 400);
    }
    const expected = request?.expectedVersion;
    if (expected !== undefined && (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < 0)) {
      return c.json({ error: 'bad_version', message: 'expectedVersion must be a whole number' }, 400);
    }
    try {
      const effective = await settings.replace(chatId, parsed.data, 'devtools', expected);
      return c.json({ chatId, effective });
    } catch (error) {
      if (!ChatSettingsError.isInstance(error)) throw error;
      const status = error.code === 'CONFLICT' ? 409 : 400;
      return c.json({ error: error.code.toLowerCase(), message: error.message }, status);
    }
  });
}

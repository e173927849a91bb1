import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createChatMembership } from '../conversation/chat-membership.js';
import { type ChatSettingsPolicy, createChatSettings } from '../conversation/chat-settings.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { chatSettingsRoutes, type DevtoolsChats } from './chat-settings-routes.js';

const policy: ChatSettingsPolicy = {
  defaults: {
    persona: 'Be brief.',
    language: 'auto',
    model: undefined,
    groupContext: 'on-demand',
    userReadsInGroup: false,
    dailyBudget: { chatMicros: 0, userMicros: 0 },
  },
  budgetCeiling: { chatMicros: 0, userMicros: 0 },
  allowedModels: [],
  locked: [],
  tools: [],
  specialists: [],
};

interface Listing {
  app: string;
  apps: string[];
  chats: Array<{ chatId: string; effective: { persona: string } }>;
}

describe('devtools chat settings routes', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  /** Two apps on one store, as bot.ts builds them: the default app's keys unscoped, beta's scoped. */
  function setUp() {
    const opened = openSqliteStore(':memory:');
    store = opened;
    const chatsOf = (appId: string | undefined): DevtoolsChats => {
      const settings = createChatSettings({ store: opened, policy, appId });
      const membership = createChatMembership({
        store: opened,
        appId,
        bus: createEventBus(),
        log: silentLogger(),
        chatSettings: settings,
        retentionMs: 60_000,
      });
      return { settings, membership };
    };
    const app = new Hono();
    chatSettingsRoutes(
      app,
      new Map([
        ['alpha', chatsOf(undefined)],
        ['beta', chatsOf('beta')],
      ]),
    );
    return app;
  }

  const save = (app: Hono, chatId: string, persona: string, query = '') =>
    app.request(`/api/chats/${chatId}/settings${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { persona } }),
    });
  const list = async (app: Hono, query = '') => (await (await app.request(`/api/chats${query}`)).json()) as Listing;

  it('keeps each app’s chats apart, the first app when none is named', async () => {
    const app = setUp();
    expect((await save(app, 'oc_beta', 'Beta voice.', '?app=beta')).status).toBe(200);
    expect((await save(app, 'oc_alpha', 'Alpha voice.')).status).toBe(200);

    const alpha = await list(app);
    expect(alpha).toMatchObject({ app: 'alpha', apps: ['alpha', 'beta'] });
    expect(alpha.chats.map((chat) => chat.chatId)).toEqual(['oc_alpha']);
    expect(await list(app, '?app=alpha')).toEqual(alpha);

    const beta = await list(app, '?app=beta');
    expect(beta.app).toBe('beta');
    expect(beta.chats.map((chat) => [chat.chatId, chat.effective.persona])).toEqual([['oc_beta', 'Beta voice.']]);

    // The same chat id, one persona per app.
    expect((await save(app, 'oc_shared', 'As beta.', '?app=beta')).status).toBe(200);
    const detail = async (query: string) =>
      (await (await app.request(`/api/chats/oc_shared${query}`)).json()) as { version: number; stored: object };
    expect(await detail('?app=beta')).toMatchObject({ version: 1, stored: { persona: 'As beta.' } });
    expect(await detail('')).toMatchObject({ version: 0, stored: {} });
    expect((await list(app)).chats.map((chat) => chat.chatId)).toEqual(['oc_alpha']);
  });

  it('refuses an app it does not serve', async () => {
    const app = setUp();
    for (const response of [
      await app.request('/api/chats?app=gamma'),
      await app.request('/api/chats/oc_1?app=gamma'),
      await save(app, 'oc_1', 'Nobody.', '?app=gamma'),
    ]) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'unknown_app' });
    }
    expect((await list(app)).chats).toEqual([]);
  });
});

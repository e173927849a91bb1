import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApp, type FakeFeishu, startFakeFeishu } from '../../test/fakes/fake-feishu.js';
import type { ConversationContext } from '../agents/conversation-context.js';
import { type Config, loadConfig } from '../config.js';
import { createFeishuClient } from '../feishu/feishu-client.js';
import { silentLogger } from '../log.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { type UserAuth, userAuthFromConfig } from './user-auth-from-config.js';

const BASE = 'https://bot.example.com';
const ALICE = 'ou_alice';
const DIRECT: ConversationContext = { traceId: 't', chatId: 'oc_p2p', chatType: 'p2p', userId: ALICE };
const SEARCH = { userId: ALICE, tool: 'searchDocuments', scopes: ['search:docs:read'], conversation: DIRECT };

/**
 * Per-person authorization of two apps served by one process (the FEISHU_APP_ID app and `beta`
 * from FEISHU_APPS_FILE), against the fake Feishu, which binds codes and tokens to the app whose
 * credentials obtained them.
 */
describe('per-person authorization per app', () => {
  let fake: FakeFeishu;
  let directory: string;
  let config: Config;
  let store: Store;
  let events: BotEvent[];
  let userAuth: UserAuth;

  function apps(): { main: FakeApp; beta: FakeApp } {
    const [main, beta] = fake.apps;
    if (main === undefined || beta === undefined) throw new Error('the fake serves two apps');
    return { main, beta };
  }

  beforeAll(async () => {
    fake = await startFakeFeishu({ otherApps: [{ botName: 'Beta' }] });
    directory = mkdtempSync(join(tmpdir(), 'user-auth-apps-'));
    const file = join(directory, 'apps.json');
    const { beta } = apps();
    writeFileSync(file, JSON.stringify([{ id: 'beta', appId: beta.appId, appSecret: beta.appSecret }]));
    config = loadConfig({
      ...fake.env(),
      FEISHU_APPS_FILE: file,
      PUBLIC_BASE_URL: `${BASE}/`,
      TOKEN_ENCRYPTION_KEY: 'c3'.repeat(32),
    });
  });

  afterAll(async () => {
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await store?.close();
    fake.reset();
    store = openSqliteStore(':memory:');
    events = [];
    const bus = createEventBus();
    bus.subscribe((event) => events.push(event));
    const log = silentLogger();
    const built = userAuthFromConfig({
      config,
      apps: config.feishu.apps.map((app) => ({
        app,
        client: createFeishuClient({ appId: app.appId, appSecret: app.appSecret, domain: fake.url, log }),
      })),
      store,
      bus,
      log,
    });
    if (built === undefined) throw new Error('per-person authorization is configured');
    userAuth = built;
  });

  function authorizationOf(appId: 'default' | 'beta') {
    const authorization = userAuth.forApp(appId);
    if (authorization === undefined) throw new Error(`no authorization for ${appId}`);
    return authorization;
  }

  /** The consent link of a refusal: the Markdown link in its message. */
  async function consentLink(appId: 'default' | 'beta'): Promise<URL> {
    const result = await authorizationOf(appId).tokenFor(SEARCH);
    expect(result.ok).toBe(false);
    const link = /\]\((http[^)]+)\)/.exec(result.ok ? '' : (result.message ?? ''))?.[1];
    expect(link).toBeDefined();
    return new URL(link as string);
  }

  /** Feishu's consent page as the signed-in person, then our callback (in-process): the callback's status. */
  async function consent(link: URL, callbackPath?: string): Promise<number> {
    const page = await fetch(link, { redirect: 'manual' });
    expect(page.status).toBe(302);
    const back = new URL(page.headers.get('location') as string);
    const response = await userAuth.routes.request(`${callbackPath ?? back.pathname}${back.search}`);
    return response.status;
  }

  it("sends each app's people to that app's consent page and callback", async () => {
    const { main, beta } = apps();
    const ofDefault = await consentLink('default');
    expect(ofDefault.searchParams.get('client_id')).toBe(main.appId);
    expect(ofDefault.searchParams.get('redirect_uri')).toBe(`${BASE}/oauth/callback`);
    const ofBeta = await consentLink('beta');
    expect(ofBeta.searchParams.get('client_id')).toBe(beta.appId);
    expect(ofBeta.searchParams.get('redirect_uri')).toBe(`${BASE}/oauth/beta/callback`);
  });

  it("binds a beta authorization to beta: beta's token, exchanged and refreshed with beta's credentials", async () => {
    const { beta } = apps();
    // Inside the 5-minute refresh margin: the first use refreshes.
    fake.setUserTokenLifetime(4 * 60_000);
    fake.consentAs(ALICE);
    expect(await consent(await consentLink('beta'))).toBe(200);
    const granted = await authorizationOf('beta').tokenFor(SEARCH);
    if (!granted.ok) throw new Error(`beta refused: ${granted.reason}`);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'user-auth.changed', change: 'refreshed', app: 'beta' }),
    );

    const client = createFeishuClient({
      appId: beta.appId,
      appSecret: beta.appSecret,
      domain: fake.url,
      log: silentLogger(),
    });
    await client.authen.v1.userInfo.get({}, lark.withUserAccessToken(granted.accessToken));
    expect(fake.callsTo('authen.userInfo.get').at(-1)?.user).toEqual({ openId: ALICE, app: beta.appId });
    // The exchange and the refresh both succeeded: the fake refuses beta's code and refresh
    // token with any credentials but beta's.
    expect(fake.callsTo('authen.token').map((call) => call.status)).toEqual([200, 200]);

    // The default app's people are its own: Alice has not authorized it.
    const ofDefault = await authorizationOf('default').tokenFor(SEARCH);
    expect(ofDefault).toMatchObject({ ok: false, reason: 'not-authorized' });
  });

  it("refuses a beta state at the default app's callback, and forgets per app", async () => {
    fake.consentAs(ALICE);
    // Beta's link completed at the default app's callback: no such authorization there.
    expect(await consent(await consentLink('beta'), '/oauth/callback')).toBe(400);
    expect(await authorizationOf('beta').tokenFor(SEARCH)).toMatchObject({ ok: false, reason: 'not-authorized' });

    const pendingOfBeta = await consentLink('beta');
    expect(await consent(await consentLink('beta'))).toBe(200);
    expect(await consent(await consentLink('default'))).toBe(200);
    // /logout to the default bot, then Alice deleted as beta sees her: each touches its own app only.
    expect(await authorizationOf('default').forget(ALICE)).toBe(true);
    expect((await authorizationOf('beta').tokenFor(SEARCH)).ok).toBe(true);
    // Pending: the link refused at the default app's callback, the one the refusal's check
    // started, and the one not opened yet.
    expect(await authorizationOf('beta').forgetDeparted(ALICE)).toEqual({ tokens: true, pending: 3 });
    expect(await consent(pendingOfBeta)).toBe(400);
    expect(await authorizationOf('beta').tokenFor(SEARCH)).toMatchObject({ ok: false, reason: 'not-authorized' });
    expect(events).toContainEqual(expect.objectContaining({ change: 'departed', app: 'beta', userId: ALICE }));
    expect(events).toContainEqual(expect.objectContaining({ change: 'logged-out', app: 'default', userId: ALICE }));
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { buildUserDeletedEvent, postEvent } from '../fakes/event-sender.js';
import type { FakeApp } from '../fakes/fake-feishu.js';
import { writeAppsFile } from '../support/apps-file.js';
import { lastToolResult, sayInChat } from '../support/ask-in-chat.js';
import { freePort } from '../support/bot-process.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * Per-person authorization when one process serves two bots: the FEISHU_APP_ID app (the default
 * app) and `beta` from FEISHU_APPS_FILE. Alice asks beta for documents only she can see; beta
 * sends her its own Authorize card, whose consent page is beta's and whose callback is
 * `/oauth/beta/callback`; the tool then reads with a user token Feishu (the fake, which binds
 * tokens to the app whose credentials obtained them) issued to beta. The default app's flow is
 * its own and unchanged: `/oauth/callback`, its own tokens, its own /logout; Alice's departure
 * reported to beta forgets beta's authorization only.
 */

const TOKEN_KEY = 'b2'.repeat(32);
const BETA_KEY = 'beta-encrypt-key';
const ALICE = 'ou_alice0000000000000000000000000ub';
const directory = mkdtempSync(join(tmpdir(), 'user-auth-apps-e2e-'));

const service = useE2eService({
  feishu: { otherApps: [{ botName: 'Beta' }] },
  env: async ({ feishu }) => {
    const beta = feishu.apps[1];
    const file = writeAppsFile([{ id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, encryptKey: BETA_KEY }]);
    // A known port before the start: the authorization links name it.
    const port = await freePort();
    return {
      PORT: String(port),
      MODEL_MAX_RETRIES: '0',
      STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
      USER_MESSAGES_PER_MINUTE: '1000',
      MANAGER_TOOLS: 'searchDocuments,currentTime',
      FEISHU_APPS_FILE: file,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      TOKEN_ENCRYPTION_KEY: TOKEN_KEY,
    };
  },
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function apps(): { main: FakeApp; beta: FakeApp } {
  const [main, beta] = service.feishu.apps;
  if (main === undefined || beta === undefined) throw new Error('the fake serves two apps');
  return { main, beta };
}

/** The model asks for the search, then answers with whatever the tool said. */
function scriptSearch(): void {
  service.openai.script(
    'gpt-test',
    { toolCalls: [{ name: 'searchDocuments', arguments: { query: 'roadmap' } }] },
    (request) => ({ text: `Tool said: ${lastToolResult(request).slice(0, 300)}` }),
  );
}

/** Alice writes to one bot in her direct chat with it, through that bot's webhook. */
function ask(bot: 'default' | 'beta', text: string): Promise<string> {
  return sayInChat({
    ...service,
    ...(bot === 'beta'
      ? { webhookUrl: `${service.base}/webhook/beta/event`, encryptKey: BETA_KEY, appId: apps().beta.appId }
      : {}),
    chatType: 'p2p',
    senderOpenId: ALICE,
    text,
  });
}

/** The Authorize button's link in the newest card `app`'s bot sent Alice directly. */
async function authorizeLink(app: FakeApp): Promise<URL> {
  const card = await service.feishu.waitFor(
    () =>
      service.feishu
        .messages({ chatId: service.feishu.p2pChatIdFor(ALICE), fromBot: true })
        .filter(
          (message) =>
            message.sender.id === app.appId &&
            message.msgType === 'interactive' &&
            message.content.includes('open_url'),
        )
        .at(-1),
    { description: `the Authorize card of ${app.botName}` },
  );
  const url = /"default_url":"([^"]+)"/.exec(card.content)?.[1];
  expect(url).toBeDefined();
  return new URL(url as string);
}

/** Opens the link as Alice: Feishu's consent page, then the callback it sends her to. */
async function openLink(url: URL, callbackPath: string): Promise<number> {
  const consent = await fetch(url, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const callback = consent.headers.get('location') as string;
  expect(callback.startsWith(`${service.base}${callbackPath}?`)).toBe(true);
  return (await fetch(callback)).status;
}

const searches = () => service.feishu.calls.filter((call) => call.path === '/open-apis/search/v2/doc_wiki/search');

describe('per-person authorization of a second bot, end to end', () => {
  beforeEach(() => {
    service.reset();
    service.feishu.seedSearchDocument({ title: 'Secret roadmap 2027', type: 'DOCX', visibleTo: [ALICE] });
  });

  it("authorizes beta through beta's consent page and callback, and reads with a token issued to beta", async () => {
    const { main, beta } = apps();
    scriptSearch();
    expect(await ask('beta', 'find my roadmap docs')).toContain('Authorize the bot');
    const link = await authorizeLink(beta);
    expect(link.searchParams.get('client_id')).toBe(beta.appId);
    expect(link.searchParams.get('redirect_uri')).toBe(`${service.base}/oauth/beta/callback`);

    service.feishu.consentAs(ALICE);
    expect(await openLink(link, '/oauth/beta/callback')).toBe(200);
    expect(service.events).toContainEqual(
      expect.objectContaining({ type: 'user-auth.changed', change: 'granted', app: 'beta', userId: ALICE }),
    );

    scriptSearch();
    const answer = await ask('beta', 'now find my roadmap docs');
    expect(answer).toContain('Secret roadmap 2027');
    expect(searches().at(-1)?.user).toEqual({ openId: ALICE, app: beta.appId });

    // The default bot holds no authorization of Alice's: it asks for its own, on its own page.
    scriptSearch();
    expect(await ask('default', 'find my roadmap docs')).toContain('Authorize the bot');
    const ofDefault = await authorizeLink(main);
    expect(ofDefault.searchParams.get('client_id')).toBe(main.appId);
    expect(ofDefault.searchParams.get('redirect_uri')).toBe(`${service.base}/oauth/callback`);
    expect(await openLink(ofDefault, '/oauth/callback')).toBe(200);
    scriptSearch();
    expect(await ask('default', 'now find my roadmap docs')).toContain('Secret roadmap 2027');
    expect(searches().at(-1)?.user).toEqual({ openId: ALICE, app: main.appId });
  });

  it('withdraws and forgets per bot: /logout to the default bot and a departure reported to beta touch only their own', async () => {
    const { main, beta } = apps();
    // Whatever the test before left authorized, withdrawn: both bots start without Alice's grant.
    for (const bot of ['default', 'beta'] as const) await ask(bot, '/logout');
    service.feishu.consentAs(ALICE);
    for (const [bot, app, path] of [
      ['default', main, '/oauth/callback'],
      ['beta', beta, '/oauth/beta/callback'],
    ] as const) {
      scriptSearch();
      expect(await ask(bot, 'find my roadmap docs')).toContain('Authorize the bot');
      expect(await openLink(await authorizeLink(app), path)).toBe(200);
    }

    expect(await ask('default', '/logout')).toContain('I no longer hold your Feishu authorization');
    scriptSearch();
    expect(await ask('beta', 'find my roadmap docs')).toContain('Secret roadmap 2027');
    expect(searches().at(-1)?.user).toEqual({ openId: ALICE, app: beta.appId });

    // Beta's link left pending, then Feishu tells beta that Alice was deleted.
    scriptSearch();
    expect(await ask('default', 'find my roadmap docs')).toContain('Authorize the bot');
    const pendingOfDefault = await authorizeLink(main);
    const event = buildUserDeletedEvent({ fake: service.feishu, appId: beta.appId, openId: ALICE, eventId: 'ev_gone' });
    expect((await postEvent(`${service.base}/webhook/beta/event`, event, { encryptKey: BETA_KEY })).status).toBe(200);
    await expect
      .poll(() => service.events.filter((seen) => seen.type === 'user-auth.changed' && seen.change === 'departed'), {
        timeout: 10_000,
      })
      .toEqual([expect.objectContaining({ app: 'beta', userId: ALICE })]);

    const searchedBefore = searches().length;
    scriptSearch();
    expect(await ask('beta', 'find my roadmap docs once more')).toContain('Authorize the bot');
    expect(searches()).toHaveLength(searchedBefore);
    // The default app's pending link is its own, and still works.
    expect(await openLink(pendingOfDefault, '/oauth/callback')).toBe(200);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildUserDeletedEvent, postEvent } from '../fakes/event-sender.js';
import { lastToolResult, sayInChat } from '../support/ask-in-chat.js';
import { freePort } from '../support/bot-process.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * Reading with a person's own Feishu permissions, as people use it: Alice asks in a direct chat for
 * documents only she can see; the bot answers that it needs her authorization and sends her an
 * Authorize button; a colleague who opens her link is refused; Alice authorizes through Feishu's
 * consent page (the fake's) and the callback; her next question is answered with her own token,
 * refreshed when it nears expiry; in a group the bot will not answer with what only she sees;
 * `/logout` withdraws it all. Tokens never reach the bus, the store file in clear, or the model.
 */

const TOKEN_KEY = 'a1'.repeat(32);
const ALICE = 'ou_alice0000000000000000000000000ua';
const BOB = 'ou_bob000000000000000000000000000ua';

describe('per-person authorization, end to end', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'user-auth-e2e-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  const service = useE2eService({
    env: async () => {
      // A known port before the start: the authorization links name it.
      const port = await freePort();
      return {
        PORT: String(port),
        MODEL_MAX_RETRIES: '0',
        STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
        USER_MESSAGES_PER_MINUTE: '1000',
        MANAGER_TOOLS: 'searchDocuments,currentTime',
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        TOKEN_ENCRYPTION_KEY: TOKEN_KEY,
      };
    },
  });

  beforeEach(() => {
    service.openai.reset();
    service.feishu.seedSearchDocument({ title: 'Secret roadmap 2027', type: 'DOCX', visibleTo: [ALICE] });
  });

  /** The model asks for the search, then answers with whatever the tool said. */
  function scriptSearch(): void {
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'searchDocuments', arguments: { query: 'roadmap' } }] },
      (request) => ({ text: `Tool said: ${lastToolResult(request).slice(0, 300)}` }),
    );
  }

  function ask(from: string, text: string, chat: 'p2p' | 'group' = 'p2p'): Promise<string> {
    return sayInChat({
      ...service,
      chatType: chat,
      ...(chat === 'group' ? { chatId: 'oc_user_auth_group' } : {}),
      senderOpenId: from,
      text,
    });
  }

  /** The Authorize button's link in the newest card the bot sent Alice directly. */
  async function authorizeLink(): Promise<string> {
    const card = await service.feishu.waitFor(
      () =>
        service.feishu
          .messages({ chatId: service.feishu.p2pChatIdFor(ALICE), fromBot: true })
          .filter((message) => message.msgType === 'interactive' && message.content.includes('open_url'))
          .at(-1),
      { description: 'the Authorize card' },
    );
    const url = /"default_url":"([^"]+)"/.exec(card.content)?.[1];
    expect(url).toBeDefined();
    return url as string;
  }

  /** Opens the link as the signed-in person would: Feishu's consent page, then our callback. */
  async function openLink(url: string): Promise<{ status: number; page: string }> {
    const consent = await fetch(url, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = consent.headers.get('location') as string;
    expect(callback.startsWith(`${service.base}/oauth/callback?`)).toBe(true);
    const response = await fetch(callback);
    return { status: response.status, page: await response.text() };
  }

  it('asks Alice to authorize, refuses a colleague on her link, then reads as Alice with refreshed tokens', async () => {
    scriptSearch();
    const first = await ask(ALICE, 'find my roadmap docs');
    expect(first).toContain('Authorize the bot');
    const firstLink = await authorizeLink();
    const consentUrl = new URL(firstLink);
    expect(consentUrl.pathname).toBe('/open-apis/authen/v1/authorize');
    expect(consentUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(consentUrl.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['offline_access', 'search:docs:read']),
    );
    const searches = () => service.feishu.calls.filter((call) => call.path === '/open-apis/search/v2/doc_wiki/search');
    expect(searches()).toHaveLength(0);

    // Bob opens Alice's link: Feishu signs him in, the callback sees his identity and refuses.
    service.feishu.consentAs(BOB);
    const bobTry = await openLink(firstLink);
    expect(bobTry.status).toBe(403);
    expect(bobTry.page).toContain('for someone else');
    // The link is used up either way.
    expect((await openLink(firstLink)).status).toBe(400);

    // Alice asks again, gets a fresh link and authorizes. Her token lives 4 minutes, inside the
    // bot's 5-minute refresh margin, so her next question refreshes it first.
    service.feishu.setUserTokenLifetime(4 * 60_000);
    scriptSearch();
    await ask(ALICE, 'find my roadmap docs, please');
    service.feishu.consentAs(ALICE);
    const granted = await openLink(await authorizeLink());
    expect(granted.status).toBe(200);
    expect(granted.page).toContain('Authorized');

    scriptSearch();
    const answer = await ask(ALICE, 'now find my roadmap docs');
    expect(answer).toContain('Secret roadmap 2027');
    expect(answer).not.toContain('Authorize the bot');
    const searchCall = searches().at(-1);
    expect(searchCall?.headers.authorization).toMatch(/^Bearer u-/);
    expect(service.events.some((event) => event.type === 'user-auth.changed' && event.change === 'refreshed')).toBe(
      true,
    );
    // Refresh tokens work once: Alice's first one was spent by the refresh, its successor is live.
    expect(service.feishu.liveRefreshTokens(ALICE)).toBe(1);

    // No token ever left the authorization module: not on the bus, not in the model's requests,
    // not in clear in the store's file.
    const userToken = (searchCall?.headers.authorization ?? '').replace(/^Bearer /, '');
    expect(userToken).toMatch(/^u-/);
    expect(JSON.stringify(service.events)).not.toContain(userToken);
    expect(JSON.stringify(service.openai.requestsFor('gpt-test'))).not.toContain(userToken);
    const storeBytes = ['bot.db', 'bot.db-wal']
      .map((name) => {
        try {
          return readFileSync(join(directory, name)).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    expect(storeBytes).not.toContain(userToken);
    expect(storeBytes).not.toContain('ur-');
  });

  it('does not answer in a group with what only the asker can see, and /logout withdraws the authorization', async () => {
    scriptSearch();
    const inGroup = await ask(ALICE, 'find my roadmap docs', 'group');
    expect(inGroup).toContain('in group chats I do not answer with what only you can see');
    expect(inGroup).not.toContain('Secret roadmap 2027');

    expect(await ask(ALICE, '/logout')).toContain('I no longer hold your Feishu authorization');
    expect(service.events.some((event) => event.type === 'user-auth.changed' && event.change === 'logged-out')).toBe(
      true,
    );
    scriptSearch();
    expect(await ask(ALICE, 'find my roadmap docs again')).toContain('Authorize the bot');
    expect(await ask(BOB, '/logout')).toContain('You had not authorized me');
  });

  it('forgets a person Feishu reports as deleted: their tokens and pending links, so the bot asks again', async () => {
    // Alice gets two links, authorizes with the second; the first stays pending.
    scriptSearch();
    expect(await ask(ALICE, 'find my roadmap docs before I leave')).toContain('Authorize the bot');
    const pendingLink = await authorizeLink();
    scriptSearch();
    expect(await ask(ALICE, 'find my roadmap docs, one more link')).toContain('Authorize the bot');
    await expect.poll(() => authorizeLink(), { timeout: 10_000 }).not.toBe(pendingLink);
    const usedLink = await authorizeLink();
    service.feishu.consentAs(ALICE);
    expect((await openLink(usedLink)).status).toBe(200);
    scriptSearch();
    expect(await ask(ALICE, 'find my roadmap docs now')).toContain('Secret roadmap 2027');

    // Feishu reports Alice deleted (she left), as a signed, encrypted webhook event, delivered twice.
    const event = buildUserDeletedEvent({
      fake: service.feishu,
      token: service.token,
      openId: ALICE,
      eventId: 'ev_alice_left',
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey });
      expect(response.status).toBe(200);
    }
    const departed = () =>
      service.events.filter((seen) => seen.type === 'user-auth.changed' && seen.change === 'departed');
    await expect.poll(() => departed().length, { timeout: 10_000 }).toBe(1);
    expect(departed()[0]).toMatchObject({ userId: ALICE });

    // Her pending link no longer binds, and a tool acting as her asks for authorization again
    // without calling Feishu with her old token.
    expect((await openLink(pendingLink)).status).toBe(400);
    const searches = () => service.feishu.calls.filter((call) => call.path === '/open-apis/search/v2/doc_wiki/search');
    const searchedBefore = searches().length;
    scriptSearch();
    const after = await ask(ALICE, 'find my roadmap docs once more');
    expect(after).toContain('Authorize the bot');
    expect(after).not.toContain('Secret roadmap 2027');
    expect(searches()).toHaveLength(searchedBefore);
    // Only her open_id was kept with the job, not her contact card.
    const storeBytes = ['bot.db', 'bot.db-wal']
      .map((name) => {
        try {
          return readFileSync(join(directory, name)).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    expect(storeBytes).not.toContain('departed@example.com');
  });
});

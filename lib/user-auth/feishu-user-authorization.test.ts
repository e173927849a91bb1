import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../agents/conversation-context.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createAuthorizationRequests } from './authorization-requests.js';
import type { AuthorizePrompt } from './authorize-prompt.js';
import { AuthorizationRevokedError, type FeishuOAuthClient, type UserTokenSet } from './feishu-oauth-client.js';
import { createFeishuUserAuthorization } from './feishu-user-authorization.js';
import { createTokenCipher, parseTokenKey } from './token-cipher.js';
import { createUserTokenVault } from './user-token-vault.js';

const DIRECT: ConversationContext = { traceId: 't', chatId: 'oc_p2p', chatType: 'p2p', userId: 'ou_a' };
const GROUP: ConversationContext = { ...DIRECT, chatId: 'oc_group', chatType: 'group' };
const HOUR = 3_600_000;

/** An OAuth client whose refreshes are counted and scripted; its tokens carry the refresh count. */
function scriptedOAuth(now: () => number) {
  let refreshes = 0;
  let revoke = false;
  const client: FeishuOAuthClient = {
    authorizationUrl: ({ state, scopes }) =>
      `https://accounts.example/authorize?state=${state}&scope=${scopes.join('+')}`,
    exchangeCode: async () => {
      throw new Error('not used here');
    },
    async refresh(refreshToken): Promise<UserTokenSet> {
      refreshes++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (revoke) throw new AuthorizationRevokedError('refresh token revoked');
      return {
        accessToken: `u-refreshed-${refreshes}`,
        refreshToken: `${refreshToken}+`,
        expiresAt: now() + 2 * HOUR,
        scopes: ['offline_access', 'search:docs:read'],
      };
    },
  };
  return {
    client,
    refreshes: () => refreshes,
    revokeNext: () => {
      revoke = true;
    },
  };
}

describe('Feishu user authorization', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  function setUp(options: { allowInGroups?: boolean } = {}) {
    let clock = 1_800_000_000_000;
    const now = () => clock;
    const store = openSqliteStore(':memory:');
    stores.push(store);
    const oauth = scriptedOAuth(now);
    const vault = createUserTokenVault({
      store,
      cipher: createTokenCipher(parseTokenKey('11'.repeat(32))),
      appId: 'cli_x',
      now,
    });
    const prompts: AuthorizePrompt[] = [];
    const authorization = createFeishuUserAuthorization({
      oauth: oauth.client,
      vault,
      requests: createAuthorizationRequests({ store, appId: 'cli_x', now }),
      store,
      prompt: async (prompt) => {
        prompts.push(prompt);
      },
      now,
      ...options,
    });
    const request = (conversation = DIRECT, scopes = ['search:docs:read']) =>
      authorization.tokenFor({ userId: 'ou_a', tool: 'searchDocuments', scopes, conversation });
    return { authorization, vault, oauth, prompts, request, advance: (ms: number) => (clock += ms), now };
  }

  it('asks a person who never authorized, with a personal link and an Authorize card', async () => {
    const { request, prompts } = setUp();
    const result = await request();
    expect(result).toMatchObject({ ok: false, reason: 'not-authorized' });
    expect(!result.ok && result.message).toContain('[Authorize the bot](https://accounts.example/authorize?state=');
    await Promise.resolve();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({ userId: 'ou_a', tools: ['searchDocuments'] });
    expect(prompts[0]?.url).toContain('scope=offline_access+search:docs:read');
  });

  it('gives the stored token while fresh, and asks again for scopes the grant lacks', async () => {
    const { request, vault, now } = setUp();
    await vault.save('ou_a', {
      accessToken: 'u-1',
      refreshToken: 'ur-1',
      expiresAt: now() + HOUR,
      scopes: ['search:docs:read'],
    });
    expect(await request()).toEqual({ ok: true, accessToken: 'u-1' });
    const more = await request(DIRECT, ['task:task:read']);
    expect(more).toMatchObject({ ok: false, reason: 'missing-scopes' });
  });

  it('refreshes near expiry once for concurrent calls, keeping the new refresh token', async () => {
    const { request, vault, oauth, now } = setUp();
    await vault.save('ou_a', {
      accessToken: 'u-1',
      refreshToken: 'ur-1',
      expiresAt: now() + 60_000,
      scopes: ['search:docs:read'],
    });
    const results = await Promise.all([request(), request(), request()]);
    expect(results).toEqual(Array(3).fill({ ok: true, accessToken: 'u-refreshed-1' }));
    expect(oauth.refreshes()).toBe(1);
    expect((await vault.load('ou_a'))?.refreshToken).toBe('ur-1+');
  });

  it("refreshes one app's token while another app's refresh of the same person holds its lock", async () => {
    let clock = 1_800_000_000_000;
    const now = () => clock;
    const store = openSqliteStore(':memory:');
    stores.push(store);
    const cipher = createTokenCipher(parseTokenKey('11'.repeat(32)));
    const oauth = scriptedOAuth(now);
    const vault = createUserTokenVault({ store, cipher, appId: 'cli_beta', now });
    const beta = createFeishuUserAuthorization({
      app: 'beta',
      oauth: oauth.client,
      vault,
      requests: createAuthorizationRequests({ store, appId: 'cli_beta', now }),
      store,
      refreshWaitMs: 1_000,
      now,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await vault.save('ou_a', { accessToken: 'u-1', refreshToken: 'ur-1', expiresAt: now() + 60_000, scopes: [] });
    // The default app's refresh of the same person is under way on another instance.
    expect(await store.claimKey('user-token-refresh:ou_a', 30_000, now())).toBe(true);
    const result = await beta.tokenFor({ userId: 'ou_a', tool: 'searchDocuments', scopes: [], conversation: DIRECT });
    expect(result).toEqual({ ok: true, accessToken: 'u-refreshed-1' });
  });

  it('drops revoked tokens and asks again', async () => {
    const { request, vault, oauth, now } = setUp();
    await vault.save('ou_a', {
      accessToken: 'u-1',
      refreshToken: 'ur-1',
      expiresAt: now() - 1,
      scopes: ['search:docs:read'],
    });
    oauth.revokeNext();
    expect(await request()).toMatchObject({ ok: false, reason: 'not-authorized' });
    expect(await vault.load('ou_a')).toBeUndefined();
  });

  it('refuses group chats unless allowed, and forgets on logout', async () => {
    const refused = setUp();
    await refused.vault.save('ou_a', {
      accessToken: 'u-1',
      expiresAt: refused.now() + HOUR,
      scopes: ['search:docs:read'],
    });
    expect(await refused.request(GROUP)).toMatchObject({ ok: false, reason: 'not-allowed-here' });
    expect(await refused.authorization.forget('ou_a')).toBe(true);
    expect(await refused.authorization.forget('ou_a')).toBe(false);

    const allowed = setUp({ allowInGroups: true });
    await allowed.vault.save('ou_a', {
      accessToken: 'u-2',
      expiresAt: allowed.now() + HOUR,
      scopes: ['search:docs:read'],
    });
    expect(await allowed.request(GROUP)).toEqual({ ok: true, accessToken: 'u-2' });
    // A group's own setting wins over the deployment's default, either way.
    expect(await allowed.request({ ...GROUP, userReadsInGroup: false })).toMatchObject({ reason: 'not-allowed-here' });
    await refused.vault.save('ou_a', {
      accessToken: 'u-3',
      expiresAt: refused.now() + HOUR,
      scopes: ['search:docs:read'],
    });
    expect(await refused.request({ ...GROUP, userReadsInGroup: true })).toEqual({ ok: true, accessToken: 'u-3' });
  });

  it('claims an authorization request once, and not after its lifetime', async () => {
    const store = openSqliteStore(':memory:');
    stores.push(store);
    let clock = 1_800_000_000_000;
    const requests = createAuthorizationRequests({ store, appId: 'cli_x', lifetimeMs: 60_000, now: () => clock });
    const first = await requests.start('ou_a', ['offline_access']);
    expect(first.codeChallenge).toMatch(/^[\w-]{43}$/);
    expect(await requests.take(first.state)).toMatchObject({ userId: 'ou_a', scopes: ['offline_access'] });
    expect(await requests.take(first.state)).toBeUndefined();
    const second = await requests.start('ou_a', []);
    clock += 60_001;
    expect(await requests.take(second.state)).toBeUndefined();
    expect(await requests.take('not a state')).toBeUndefined();
  });
  it("forgets a departed person: tokens and every pending authorization of theirs, not other people's", async () => {
    const { authorization, vault, request, now } = setUp();
    const requests = createAuthorizationRequests({ store: stores.at(-1) as Store, appId: 'cli_x', now });
    await vault.save('ou_a', {
      accessToken: 'u-a',
      refreshToken: 'ur-a',
      expiresAt: now() + 2 * HOUR,
      scopes: ['offline_access', 'search:docs:read'],
    });
    const alice = await requests.start('ou_a', ['offline_access']);
    const bob = await requests.start('ou_b', ['offline_access']);
    expect(await authorization.forgetDeparted('ou_a')).toEqual({ tokens: true, pending: 1 });
    expect(await vault.load('ou_a')).toBeUndefined();
    expect(await requests.take(alice.state)).toBeUndefined();
    expect(await requests.take(bob.state)).toMatchObject({ userId: 'ou_b' });
    // A tool acting as her now asks for authorization again.
    expect(await request()).toMatchObject({ ok: false, reason: 'not-authorized' });
    // Again (a redelivered event): nothing left, no error.
    expect(await authorization.forgetDeparted('ou_a')).toEqual({ tokens: false, pending: 1 });
  });
});

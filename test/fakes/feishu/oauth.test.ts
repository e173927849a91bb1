import { createHash } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFeishu, startFakeFeishu } from '../fake-feishu.js';

/** The OAuth area through plain HTTP as a browser and an OAuth client would use it, and user_info through the real SDK. */
describe('fake Feishu OAuth area', () => {
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = await startFakeFeishu({ otherApps: [{ botName: 'Beta' }] });
  });
  afterAll(async () => {
    await fake.close();
  });

  const verifier = 'v'.repeat(50);
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  async function authorize(state: string, clientId = fake.appId): Promise<URL> {
    const url = new URL('/open-apis/authen/v1/authorize', fake.url);
    for (const [key, value] of Object.entries({
      client_id: clientId,
      redirect_uri: 'https://bot.example.com/oauth/callback',
      scope: 'offline_access search:docs:read',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })) {
      url.searchParams.set(key, value);
    }
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') as string);
  }

  function token(form: Record<string, string>, app: { appId: string; appSecret: string } = fake) {
    return fetch(new URL('/oauth/v3/token', fake.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.appId, client_secret: app.appSecret, ...form }),
    });
  }

  it('issues a code to the consenting person, once, checking PKCE, and tokens that rotate on refresh', async () => {
    fake.consentAs('ou_alice');
    const back = await authorize('state-1');
    expect(back.searchParams.get('state')).toBe('state-1');
    const code = back.searchParams.get('code') as string;
    const exchange = { grant_type: 'authorization_code', code, redirect_uri: 'https://bot.example.com/oauth/callback' };

    const wrongVerifier = await token({ ...exchange, code_verifier: 'w'.repeat(50) });
    expect(wrongVerifier.status).toBe(400);
    expect(await wrongVerifier.json()).toMatchObject({ error: 'invalid_grant' });

    const again = await authorize('state-2');
    const granted = await token({
      ...exchange,
      code: again.searchParams.get('code') as string,
      code_verifier: verifier,
    });
    const body = (await granted.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 0, token_type: 'Bearer', scope: 'offline_access search:docs:read' });

    const client = new lark.Client({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
    const info = await client.authen.v1.userInfo.get({}, lark.withUserAccessToken(body.access_token as string));
    expect(info.data?.open_id).toBe('ou_alice');

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token as string });
    expect(refreshed.status).toBe(200);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token as string });
    expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('sends a declining person back with access_denied, and refuses a wrong client secret', async () => {
    fake.consentAs('ou_bob', { deny: true });
    expect((await authorize('state-3')).searchParams.get('error')).toBe('access_denied');
    const response = await fetch(new URL('/oauth/v3/token', fake.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: fake.appId, client_secret: 'wrong', grant_type: 'refresh_token' }),
    });
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it("binds codes and tokens to the app that obtained them: another app's credentials are refused", async () => {
    const [alpha, beta] = fake.apps;
    if (alpha === undefined || beta === undefined) throw new Error('the fake serves two apps');
    fake.consentAs('ou_carol');
    const exchange = (code: string) => ({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://bot.example.com/oauth/callback',
      code_verifier: verifier,
    });

    // Beta's code presented by alpha: refused, and spent.
    const stolen = (await authorize('state-4', beta.appId)).searchParams.get('code') as string;
    const byAlpha = await token(exchange(stolen), alpha);
    expect(byAlpha.status).toBe(400);
    expect(await byAlpha.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await token(exchange(stolen), beta)).status).toBe(400);

    // Beta's own exchange: a user token that acts through beta.
    const code = (await authorize('state-5', beta.appId)).searchParams.get('code') as string;
    const granted = await token(exchange(code), beta);
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as Record<string, string>;
    const client = new lark.Client({ appId: beta.appId, appSecret: beta.appSecret, domain: fake.url });
    const info = await client.authen.v1.userInfo.get({}, lark.withUserAccessToken(body.access_token as string));
    expect(info.data?.open_id).toBe('ou_carol');
    expect(fake.callsTo('authen.userInfo.get').at(-1)?.user).toEqual({ openId: 'ou_carol', app: beta.appId });

    // Beta's refresh token presented by alpha: refused, and still beta's to use.
    const refreshByAlpha = await token(
      { grant_type: 'refresh_token', refresh_token: body.refresh_token as string },
      alpha,
    );
    expect(await refreshByAlpha.json()).toMatchObject({ error: 'invalid_grant' });
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token as string }, beta);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Record<string, string>;
    await client.authen.v1.userInfo.get({}, lark.withUserAccessToken(next.access_token as string));
    expect(fake.callsTo('authen.userInfo.get').at(-1)?.user).toEqual({ openId: 'ou_carol', app: beta.appId });
  });
});

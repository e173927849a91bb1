import { createHash } from 'node:crypto';
import { defineFeishuArea, type FakeFeishu } from './core.js';
import { fail, ok, type Reply } from './reply.js';
import { hex } from './util.js';

/**
 * Per-user authorization, as Feishu's OAuth 2.0 documents it (RFC 6749 with PKCE):
 * - `GET /open-apis/authen/v1/authorize` (the accounts domain's consent page): `client_id`,
 *   `redirect_uri`, `scope`, `state`, `code_challenge`, `code_challenge_method=S256`. The fake has
 *   no browser login: `consentAs(openId)` says who is signed in and agrees; it redirects to
 *   `redirect_uri?code=…&state=…` (or `error=access_denied`). A code lives 5 minutes, once.
 * - `POST /oauth/v3/token` (form or JSON): `grant_type=authorization_code` with `client_id`,
 *   `client_secret`, `code`, `redirect_uri`, `code_verifier`; or `grant_type=refresh_token` with
 *   `refresh_token`. Answers `{ code: 0, access_token, expires_in, refresh_token,
 *   refresh_token_expires_in, token_type: 'Bearer', scope }`; a refresh token works once (the
 *   answer carries a new one). Failures answer HTTP 400 `{ code, error, error_description }` with
 *   the RFC's `error` (`invalid_grant`, `invalid_client`, …).
 * - `GET /open-apis/authen/v1/user_info` with the user's token: `data.open_id`, `data.name`, ….
 *
 * Every app of the tenant is a client of its own (`client_id` = its App ID, `client_secret` = its
 * App Secret). A code and a refresh token belong to the app that obtained them, and the tokens
 * issued for them are that app's user tokens: presented with another app's credentials they are
 * refused with `invalid_grant` (RFC 6749 §5.2: "issued to another client"), which Feishu's token
 * endpoint follows.
 */

declare module './core.js' {
  interface FeishuApis {
    'authen.authorize': true;
    'authen.token': true;
    'authen.userInfo.get': true;
  }
  interface FakeFeishu {
    /** The person signed in to Feishu in "the browser": the next consent pages agree as them. */
    consentAs(openId: string, options?: { deny?: boolean; grantScopes?: readonly string[] }): void;
    /** User access tokens live this long (default 2 h); refresh tokens 7 days. */
    setUserTokenLifetime(ms: number): void;
    /** Refresh tokens issued (to one person, or anyone) and not used or expired yet. */
    liveRefreshTokens(openId?: string): number;
  }
}

export const OAUTH_CODES = {
  /** The fake's pick for a code that is unknown, used or expired (the client acts on `error`). */
  oauthInvalidCode: 20003,
  /** The fake's pick for a wrong client secret. */
  oauthInvalidClient: 20002,
  /** The fake's pick for a used, revoked or expired refresh token. */
  oauthInvalidRefreshToken: 20064,
  /** The fake's pick for a PKCE verifier that does not match the challenge. */
  oauthPkceMismatch: 20065,
  /** user_info without a user token. */
  oauthUserTokenRequired: 99991679,
} as const;

interface PendingCode {
  openId: string;
  /** The app (client_id) the consent page was opened for. */
  appId: string;
  scope: string;
  redirectUri: string;
  challenge: string | undefined;
  expiresAt: number;
}

const MAX_ENTRIES = 1_000;
const REFRESH_TOKEN_MS = 7 * 86_400_000;

function oauthError(code: number, error: string, description: string): Reply {
  return { status: 400, body: { code, error, error_description: description } };
}

function bounded<K, V>(map: Map<K, V>): void {
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as K);
}

export const oauthArea = defineFeishuArea({
  name: 'oauth',
  codes: OAUTH_CODES,
  install(core): Pick<FakeFeishu, 'consentAs' | 'setUserTokenLifetime' | 'liveRefreshTokens'> {
    let signedIn: { openId: string; deny: boolean; grantScopes: readonly string[] | undefined } | undefined;
    let accessTokenMs = 2 * 3_600_000;
    const codes = new Map<string, PendingCode>();
    const refreshTokens = new Map<string, { openId: string; appId: string; scope: string; expiresAt: number }>();
    core.onReset(() => {
      signedIn = undefined;
      accessTokenMs = 2 * 3_600_000;
      codes.clear();
      refreshTokens.clear();
    });

    function issueTokens(openId: string, appId: string, scope: string): Reply {
      const accessToken = core.userTokens.issue(openId, accessTokenMs, appId);
      const refreshToken = `ur-${hex(24)}`;
      refreshTokens.set(refreshToken, { openId, appId, scope, expiresAt: core.now() + REFRESH_TOKEN_MS });
      bounded(refreshTokens);
      return {
        status: 200,
        body: {
          code: 0,
          access_token: accessToken,
          expires_in: Math.floor(accessTokenMs / 1000),
          refresh_token: refreshToken,
          refresh_token_expires_in: REFRESH_TOKEN_MS / 1000,
          token_type: 'Bearer',
          scope,
        },
      };
    }

    core.route({
      api: 'authen.authorize',
      method: 'GET',
      path: '/open-apis/authen/v1/authorize',
      auth: false,
      handle({ query }) {
        const client = core.apps.find((app) => app.appId === query.client_id);
        if (client === undefined) return { status: 400, body: 'unknown client_id' };
        const redirect = query.redirect_uri;
        if (!redirect || !/^https?:\/\//.test(redirect)) return { status: 400, body: 'redirect_uri missing' };
        if (signedIn === undefined) return { status: 401, body: 'nobody is signed in to Feishu (consentAs)' };
        const target = new URL(redirect);
        if (query.state) target.searchParams.set('state', query.state);
        if (signedIn.deny) {
          target.searchParams.set('error', 'access_denied');
          return { status: 302, body: '', headers: { location: target.toString() } };
        }
        if (query.code_challenge && query.code_challenge_method !== 'S256') {
          return { status: 400, body: 'code_challenge_method must be S256' };
        }
        const code = hex(16);
        const requested = (query.scope ?? '').split(/\s+/).filter(Boolean);
        const granted = signedIn.grantScopes ?? requested;
        codes.set(code, {
          openId: signedIn.openId,
          appId: client.appId,
          scope: requested.filter((scope) => granted.includes(scope)).join(' '),
          redirectUri: redirect,
          challenge: query.code_challenge,
          expiresAt: core.now() + 5 * 60_000,
        });
        bounded(codes);
        target.searchParams.set('code', code);
        return { status: 302, body: '', headers: { location: target.toString() } };
      },
    });

    core.route({
      api: 'authen.token',
      method: 'POST',
      path: '/oauth/v3/token',
      auth: false,
      body: 'raw',
      handle({ rawBody, headers }) {
        const text = new TextDecoder().decode(rawBody);
        const form: Record<string, string> = (headers['content-type'] ?? '').includes('json')
          ? (JSON.parse(text || '{}') as Record<string, string>)
          : Object.fromEntries(new URLSearchParams(text));
        const client = core.apps.find((app) => app.appId === form.client_id);
        if (client === undefined || form.client_secret !== client.appSecret) {
          return oauthError(OAUTH_CODES.oauthInvalidClient, 'invalid_client', 'client authentication failed');
        }
        if (form.grant_type === 'authorization_code') {
          const pending = form.code === undefined ? undefined : codes.get(form.code);
          if (form.code !== undefined) codes.delete(form.code);
          if (pending === undefined || pending.expiresAt <= core.now()) {
            return oauthError(OAUTH_CODES.oauthInvalidCode, 'invalid_grant', 'the code is invalid or expired');
          }
          // Spent either way: a code tried by the wrong app is gone, as a used one is.
          if (pending.appId !== client.appId) {
            return oauthError(OAUTH_CODES.oauthInvalidCode, 'invalid_grant', 'the code was issued to another app');
          }
          if (form.redirect_uri !== pending.redirectUri) {
            return oauthError(OAUTH_CODES.oauthInvalidCode, 'invalid_grant', 'redirect_uri does not match');
          }
          if (pending.challenge !== undefined || form.code_verifier !== undefined) {
            const computed = createHash('sha256')
              .update(form.code_verifier ?? '')
              .digest('base64url');
            if (computed !== pending.challenge) {
              return oauthError(OAUTH_CODES.oauthPkceMismatch, 'invalid_grant', 'code_verifier does not match');
            }
          }
          return issueTokens(pending.openId, client.appId, pending.scope);
        }
        if (form.grant_type === 'refresh_token') {
          const entry = form.refresh_token === undefined ? undefined : refreshTokens.get(form.refresh_token);
          if (form.refresh_token !== undefined) refreshTokens.delete(form.refresh_token);
          if (entry === undefined || entry.expiresAt <= core.now()) {
            return oauthError(OAUTH_CODES.oauthInvalidRefreshToken, 'invalid_grant', 'the refresh token is invalid');
          }
          if (entry.appId !== client.appId) {
            // Another app's refresh token is refused and left to its owner.
            refreshTokens.set(form.refresh_token as string, entry);
            return oauthError(
              OAUTH_CODES.oauthInvalidRefreshToken,
              'invalid_grant',
              'the refresh token was issued to another app',
            );
          }
          return issueTokens(entry.openId, client.appId, entry.scope);
        }
        return oauthError(20001, 'unsupported_grant_type', `grant_type ${form.grant_type ?? '(none)'}`);
      },
    });

    core.route({
      api: 'authen.userInfo.get',
      method: 'GET',
      path: '/open-apis/authen/v1/user_info',
      handle({ caller }) {
        if (caller.kind !== 'user') return fail(OAUTH_CODES.oauthUserTokenRequired, 'user access token required');
        return ok({ open_id: caller.openId, name: caller.openId, tenant_key: core.tenantKey });
      },
    });

    return {
      consentAs(openId, options = {}) {
        signedIn = { openId, deny: options.deny ?? false, grantScopes: options.grantScopes };
      },
      setUserTokenLifetime(ms) {
        accessTokenMs = ms;
      },
      liveRefreshTokens: (openId) =>
        [...refreshTokens.values()].filter(
          (entry) => entry.expiresAt > core.now() && (openId === undefined || entry.openId === openId),
        ).length,
    };
  },
});

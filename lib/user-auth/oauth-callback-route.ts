import * as lark from '@larksuiteoapi/node-sdk';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { callFeishu } from '../feishu/call-feishu.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { AuthorizationRequests } from './authorization-requests.js';
import type { FeishuOAuthClient } from './feishu-oauth-client.js';
import type { UserTokenVault } from './user-token-vault.js';

export interface OAuthCallbackOptions {
  /** The app (its id in this process) this callback completes authorizations of; named in its events. */
  app?: string;
  /** Default `/oauth/callback` (the default app's); another app's is `/oauth/<id>/callback`. */
  path?: string;
  /** The app's own OAuth client: a code is exchanged with the credentials of the app it was issued to. */
  oauth: FeishuOAuthClient;
  requests: AuthorizationRequests;
  vault: UserTokenVault;
  /** Asks Feishu who authorized (user_info with the new token). */
  feishuClient: FeishuClient;
  bus: EventBus;
  log: Logger;
  timeoutMs?: number;
}

/** The page the person sees in the browser after Feishu's consent page. */
function page(status: 200 | 400 | 403 | 502, title: string, text: string) {
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#1f2329}</style></head>
<body><h1>${title}</h1><p>${text}</p></body></html>`;
  return { body, status };
}

/**
 * `GET /oauth/callback` (another app's: `/oauth/<id>/callback`): where Feishu's consent page sends
 * the person back. The state must name an authorization this app started (once, within its lifetime), the code is exchanged with the
 * PKCE verifier only the server holds, and the token must belong to the person who asked:
 * someone else opening a forwarded link is refused and nothing is stored. Tokens and codes are
 * never logged or shown.
 *
 * @example
 * app.route('/', oauthCallbackRoutes({ oauth, requests, vault, feishuClient, bus, log }));
 */
export function oauthCallbackRoutes({
  app: appId,
  path = '/oauth/callback',
  oauth,
  requests,
  vault,
  feishuClient,
  bus,
  log,
  timeoutMs = 10_000,
}: OAuthCallbackOptions): Hono {
  const app = new Hono();
  const changed = (userId: string, change: 'declined' | 'wrong-person' | 'granted') =>
    bus.emit({ type: 'user-auth.changed', userId, change, ...(appId === undefined ? {} : { app: appId }) });
  app.get(path, async (c) => {
    const url = new URL(c.req.url);
    const state = url.searchParams.get('state') ?? '';
    const request = await requests.take(state);
    if (request === undefined) {
      const { body, status } = page(
        400,
        'This link has expired',
        'This authorization link was already used or is more than 10 minutes old. Ask the bot again in Feishu for a new one.',
      );
      return c.html(body, status);
    }
    if (url.searchParams.has('error')) {
      changed(request.userId, 'declined');
      const { body, status } = page(400, 'Not authorized', 'You did not authorize the bot. Nothing was stored.');
      return c.html(body, status);
    }
    try {
      const tokens = await oauth.exchangeCode({
        callbackUrl: url,
        expectedState: state,
        codeVerifier: request.codeVerifier,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const info = await callFeishu(
        bus,
        'authen.v1.userInfo.get',
        () => feishuClient.authen.v1.userInfo.get({}, lark.withUserAccessToken(tokens.accessToken)),
        { timeoutMs },
      );
      if (info.data?.open_id !== request.userId) {
        changed(request.userId, 'wrong-person');
        log.warn({ userId: request.userId }, 'an authorization link was completed by someone else: refused');
        const { body, status } = page(
          403,
          'This link is for someone else',
          'This authorization link was made for another person. Ask the bot yourself to get your own link. Nothing was stored.',
        );
        return c.html(body, status);
      }
      await vault.save(request.userId, tokens);
      changed(request.userId, 'granted');
      log.info({ userId: request.userId, scopes: tokens.scopes }, 'user authorized the bot');
      const { body, status } = page(
        200,
        'Authorized',
        'The bot can now read what you can see, for your own questions. Go back to Feishu and ask again. Send /logout to the bot to withdraw this.',
      );
      return c.html(body, status);
    } catch (error) {
      // The message names the failure kind only: OAuth errors can echo request parameters.
      log.warn(
        { userId: request.userId, error: error instanceof Error ? error.name : 'unknown' },
        'authorization failed',
      );
      const { body, status } = page(
        502,
        'Authorization failed',
        'Feishu did not complete the authorization. Ask the bot again in a moment for a new link.',
      );
      return c.html(body, status);
    }
  });
  return app;
}

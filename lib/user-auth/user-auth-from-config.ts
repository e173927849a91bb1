import { Hono } from 'hono';
import type { Config } from '../config.js';
import type { FeishuApp } from '../feishu/feishu-apps.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { DEFAULT_APP_ID } from '../inbox/app-scope.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import { createAuthorizationRequests } from './authorization-requests.js';
import { sendAuthorizePrompt } from './authorize-prompt.js';
import { createFeishuOAuthClient } from './feishu-oauth-client.js';
import { createFeishuUserAuthorization, type FeishuUserAuthorization } from './feishu-user-authorization.js';
import { oauthCallbackRoutes } from './oauth-callback-route.js';
import { createTokenCipher, parseTokenKey, type TokenCipher } from './token-cipher.js';
import { createUserTokenVault } from './user-token-vault.js';

export interface UserAuth {
  /**
   * The per-person authorization of one app (by its id in this process, `default` for
   * FEISHU_APP_ID): its own OAuth client, tokens and pending requests. Undefined for an app this
   * process does not serve.
   */
  forApp(appId: string): FeishuUserAuthorization | undefined;
  /** Every app's callback: `GET /oauth/callback` for the default app, `GET /oauth/<id>/callback` for the others. */
  routes: Hono;
}

/**
 * Where Feishu's consent page sends a person back for app `appId`. The default app keeps
 * `/oauth/callback`, so the redirect URL a single-app deployment registered keeps working; every
 * other app has its own path, so the callback knows whose credentials exchange the code before it
 * reads anything the browser sent (Feishu requires the exact redirect URL at the exchange, too).
 *
 * @example
 * oauthCallbackPath('default'); // '/oauth/callback'
 * oauthCallbackPath('beta');    // '/oauth/beta/callback'
 */
export function oauthCallbackPath(appId: string): string {
  return appId === DEFAULT_APP_ID ? '/oauth/callback' : `/oauth/${appId}/callback`;
}

/**
 * The redirect URL app `appId` registers in its Feishu console (Security settings → Redirect URLs).
 *
 * @example
 * oauthRedirectUri('https://bot.example.com/', 'beta'); // 'https://bot.example.com/oauth/beta/callback'
 */
export function oauthRedirectUri(publicBaseUrl: string, appId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${oauthCallbackPath(appId)}`;
}

/** One app as per-person authorization needs it: its credentials, client and log. */
export interface UserAuthApp {
  app: FeishuApp;
  client: FeishuClient;
  /** The app's log (its lines name the app when the process serves several); default: `log`. */
  log?: Logger;
}

function userAuthOfApp({
  app,
  client,
  log,
  config,
  publicBaseUrl,
  cipher,
  store,
  bus,
}: Required<UserAuthApp> & {
  config: Pick<Config, 'feishu' | 'userAuth'>;
  publicBaseUrl: string;
  cipher: TokenCipher;
  store: Store;
  bus: EventBus;
}): { authorization: FeishuUserAuthorization; routes: Hono } {
  // Feishu issues a user token to the app whose credentials obtained it: each app exchanges and
  // refreshes with its own, and sends its people to its own consent page and callback.
  const oauth = createFeishuOAuthClient({
    appId: app.appId,
    appSecret: app.appSecret,
    domain: config.feishu.domain,
    redirectUri: oauthRedirectUri(publicBaseUrl, app.id),
  });
  // Keyed by the Feishu app id (as before, so the default app's people stay authorized across
  // the upgrade): one app's tokens and pending links are never another's.
  const vault = createUserTokenVault({
    store,
    cipher,
    appId: app.appId,
    onUnreadable: (userId, error) =>
      log.warn(
        { userId, error: error instanceof Error ? error.message : 'unknown' },
        'a stored user token does not open',
      ),
  });
  const requests = createAuthorizationRequests({ store, appId: app.appId });
  const authorization = createFeishuUserAuthorization({
    app: app.id,
    oauth,
    vault,
    requests,
    store,
    allowInGroups: config.userAuth.allowInGroups,
    prompt: (prompt) => sendAuthorizePrompt({ client, bus }, prompt),
    log,
    bus,
  });
  const routes = oauthCallbackRoutes({
    app: app.id,
    path: oauthCallbackPath(app.id),
    oauth,
    requests,
    vault,
    feishuClient: client,
    bus,
    log,
  });
  return { authorization, routes };
}

/**
 * Per-person authorization as configured, for every Feishu app the process serves: each app its
 * own OAuth client (its app id and secret), sealed token vault and pending requests in the store,
 * its Authorize card sent by its own bot, and its own callback route. Undefined when it is off
 * (`config.userAuth.enabled` false, or no app with a client).
 *
 * @example
 * const userAuth = userAuthFromConfig({ config, apps: [{ app, client }], store, bus, log });
 * if (userAuth) routes.push({ path: '/', app: userAuth.routes });
 * const betaAuthorization = userAuth?.forApp('beta');
 */
export function userAuthFromConfig({
  config,
  apps,
  store,
  bus,
  log,
}: {
  config: Pick<Config, 'feishu' | 'userAuth'>;
  apps: readonly UserAuthApp[];
  store: Store;
  bus: EventBus;
  log: Logger;
}): UserAuth | undefined {
  const { tokenKey, publicBaseUrl } = config.userAuth;
  if (!config.userAuth.enabled || apps.length === 0 || !tokenKey || !publicBaseUrl) return undefined;
  const cipher = createTokenCipher(parseTokenKey(tokenKey));
  const routes = new Hono();
  const byApp = new Map<string, FeishuUserAuthorization>();
  for (const each of apps) {
    const ofApp = userAuthOfApp({
      ...each,
      log: each.log ?? log,
      config,
      publicBaseUrl,
      cipher,
      store,
      bus,
    });
    byApp.set(each.app.id, ofApp.authorization);
    routes.route('/', ofApp.routes);
  }
  return { forApp: (appId) => byApp.get(appId), routes };
}

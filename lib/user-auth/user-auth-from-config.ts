import type { Hono } from 'hono';
import type { Config } from '../config.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import { createAuthorizationRequests } from './authorization-requests.js';
import { sendAuthorizePrompt } from './authorize-prompt.js';
import { createFeishuOAuthClient } from './feishu-oauth-client.js';
import { createFeishuUserAuthorization, type FeishuUserAuthorization } from './feishu-user-authorization.js';
import { oauthCallbackRoutes } from './oauth-callback-route.js';
import { createTokenCipher, parseTokenKey } from './token-cipher.js';
import { createUserTokenVault } from './user-token-vault.js';

export interface UserAuth {
  authorization: FeishuUserAuthorization;
  /** `GET /oauth/callback`. */
  routes: Hono;
}

/**
 * Per-person authorization as configured: OAuth client, sealed token vault, pending requests in
 * the store, the Authorize card sender and the callback route. Undefined when it is off
 * (`config.userAuth.enabled` false, or no Feishu client).
 *
 * @example
 * const userAuth = userAuthFromConfig({ config, feishuClient, store, bus, log });
 * if (userAuth) routes.push({ path: '/', app: userAuth.routes });
 */
export function userAuthFromConfig({
  config,
  feishuClient,
  store,
  bus,
  log,
}: {
  config: Config;
  feishuClient: FeishuClient | undefined;
  store: Store;
  bus: EventBus;
  log: Logger;
}): UserAuth | undefined {
  const { appId, appSecret } = config.feishu;
  const { tokenKey, publicBaseUrl, allowInGroups } = config.userAuth;
  if (!config.userAuth.enabled || feishuClient === undefined || !appId || !appSecret || !tokenKey || !publicBaseUrl) {
    return undefined;
  }
  const oauth = createFeishuOAuthClient({
    appId,
    appSecret,
    domain: config.feishu.domain,
    redirectUri: `${publicBaseUrl.replace(/\/+$/, '')}/oauth/callback`,
  });
  const vault = createUserTokenVault({
    store,
    cipher: createTokenCipher(parseTokenKey(tokenKey)),
    appId,
    onUnreadable: (userId, error) =>
      log.warn(
        { userId, error: error instanceof Error ? error.message : 'unknown' },
        'a stored user token does not open',
      ),
  });
  const requests = createAuthorizationRequests({ store, appId });
  const authorization = createFeishuUserAuthorization({
    oauth,
    vault,
    requests,
    store,
    allowInGroups,
    prompt: (prompt) => sendAuthorizePrompt({ client: feishuClient, bus }, prompt),
    log,
    bus,
  });
  return { authorization, routes: oauthCallbackRoutes({ oauth, requests, vault, feishuClient, bus, log }) };
}

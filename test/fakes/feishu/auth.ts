import { defineFeishuArea } from './core.js';
import { fail } from './reply.js';

/**
 * Tenant access token: `POST /open-apis/auth/v3/tenant_access_token/internal` (self-built app),
 * answering `{ code, msg, tenant_access_token, expire }` at the top level as the SDK reads it.
 * Checking tokens on other calls is the core's job (`core.tenantTokens`).
 */

declare module './core.js' {
  interface FeishuApis {
    'auth.tenantAccessToken': true;
  }
}

export const AUTH_CODES = {
  /** Token endpoint: wrong app_id/app_secret. */
  appSecretInvalid: 10014,
} as const;

export const authArea = defineFeishuArea({
  name: 'auth',
  codes: AUTH_CODES,
  install(core) {
    core.route({
      api: 'auth.tenantAccessToken',
      method: 'POST',
      path: '/open-apis/auth/v3/tenant_access_token/internal',
      auth: false,
      handle({ body }) {
        const app = core.apps.find(
          (candidate) => candidate.appId === body.app_id && candidate.appSecret === body.app_secret,
        );
        if (app === undefined) return fail(AUTH_CODES.appSecretInvalid, 'app secret invalid');
        const { token, expire } = core.tenantTokens.issue(app.appId);
        return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token, expire } };
      },
    });
    return {};
  },
});

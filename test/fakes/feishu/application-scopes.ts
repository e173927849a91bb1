import { defineFeishuArea, type FakeFeishu } from './core.js';
import { ok } from './reply.js';

/**
 * The app's scopes as the tenant granted them: `GET /open-apis/application/v6/scopes`
 * ("查询租户授权状态"), answering `data.scopes[]` of `{ scope_name, grant_status, scope_type }`
 * with `grant_status` 1 (granted) or 2 (not granted), as the SDK's `application.v6.scope.list`
 * types it. Feishu needs no particular scope to call it. An app the tenant has not installed
 * answers HTTP 400 with code 212100 (`inject({ api: 'application.scope.list', status: 400, code:
 * FEISHU_CODES.appNotInstalled })`).
 */

declare module './core.js' {
  interface FeishuApis {
    'application.scope.list': true;
  }
  interface FakeFeishu {
    /** The scopes the app asked for, each granted or not. */
    scopes(): FakeScope[];
    /** Replaces the app's scopes: names in `granted` are granted, names in `notGranted` requested but not granted. */
    setScopes(scopes: { granted: readonly string[]; notGranted?: readonly string[] }): void;
  }
  interface FakeFeishuOptions {
    /** Scopes granted from the start (default: everything a fully configured bot needs, `DEFAULT_GRANTED_SCOPES`). */
    grantedScopes?: readonly string[];
  }
}

export interface FakeScope {
  name: string;
  granted: boolean;
  type: 'tenant' | 'user';
}

export const APPLICATION_SCOPE_CODES = {
  /** The tenant has not installed the app (documented for this endpoint). */
  appNotInstalled: 212100,
} as const;

/** What the setup guide tells an operator to enable: every feature of the bot works with these. */
export const DEFAULT_GRANTED_SCOPES: readonly string[] = [
  'im:message.p2p_msg:readonly',
  'im:message.group_at_msg:readonly',
  'im:message:send_as_bot',
  'im:message:readonly',
  'im:message.group_msg',
  'im:message.reactions:write_only',
  'im:resource',
  'im:chat:readonly',
  'cardkit:card:write',
];

export const applicationScopesArea = defineFeishuArea({
  name: 'application-scopes',
  codes: APPLICATION_SCOPE_CODES,
  install(core): Pick<FakeFeishu, 'scopes' | 'setScopes'> {
    const initial = (): FakeScope[] =>
      (core.options.grantedScopes ?? DEFAULT_GRANTED_SCOPES).map((name) => ({ name, granted: true, type: 'tenant' }));
    let scopes = initial();
    core.onReset(() => {
      scopes = initial();
    });

    core.route({
      api: 'application.scope.list',
      method: 'GET',
      path: '/open-apis/application/v6/scopes',
      handle: () =>
        ok({
          scopes: scopes.map((scope) => ({
            scope_name: scope.name,
            grant_status: scope.granted ? 1 : 2,
            scope_type: scope.type,
          })),
        }),
    });

    return {
      scopes: () => scopes.map((scope) => ({ ...scope })),
      setScopes({ granted, notGranted = [] }) {
        scopes = [
          ...granted.map((name): FakeScope => ({ name, granted: true, type: 'tenant' })),
          ...notGranted.map((name): FakeScope => ({ name, granted: false, type: 'tenant' })),
        ];
        core.notify();
      },
    };
  },
});

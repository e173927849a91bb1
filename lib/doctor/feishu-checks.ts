import { feishuOffReason } from '../feature-states.js';
import { fetchBotIdentity } from '../feishu/bot-identity.js';
import { callFeishu, toFeishuApiError } from '../feishu/call-feishu.js';
import { createFeishuClient, feishuBaseUrl } from '../feishu/feishu-client.js';
import { requiredScopes } from '../feishu/required-scopes.js';
import { errorMessage } from '../util/error-message.js';
import type { CheckOutcome, DoctorCheck } from './doctor-check.js';

/** Documented answer of the scope list for an app the tenant has not installed. */
const APP_NOT_INSTALLED = 212100;
const GRANTED = 1;
const PUBLISH =
  'then Version Management & Release → Create a version → publish it (scopes and capabilities take effect only in a published version; an admin may have to approve)';

const needsCredentials: CheckOutcome = { status: 'skip', summary: 'needs working app credentials (see above)' };

/** The app id and secret get a tenant_access_token from Feishu: everything else the bot does rests on it. */
export const feishuCredentialsCheck: DoctorCheck = {
  id: 'feishu-credentials',
  title: 'Feishu app credentials',
  async run(context) {
    const { feishu } = context.config;
    const off = feishuOffReason(feishu);
    if (off !== undefined || feishu.appId === undefined || feishu.appSecret === undefined) {
      return {
        status: 'fail',
        summary: `${off ?? 'credentials missing'}: the Feishu channel is off`,
        fix: 'Create a self-built app in the developer console and copy App ID and App Secret (Credentials & Basic Info) into FEISHU_APP_ID and FEISHU_APP_SECRET (docs/feishu-setup.md)',
      };
    }
    const { appId, appSecret, domain } = feishu;
    const client = createFeishuClient({ appId, appSecret, domain, log: context.log });
    const baseUrl = feishuBaseUrl(domain);
    try {
      const answer = await callFeishu(
        context.bus,
        'auth.v3.tenantAccessToken.internal',
        () => client.auth.v3.tenantAccessToken.internal({ data: { app_id: appId, app_secret: appSecret } }),
        { timeoutMs: context.timeouts.feishuMs },
      );
      // Feishu answers the token at the top level (the SDK's types put it under data).
      const top = answer as { tenant_access_token?: unknown; expire?: unknown };
      const token = top.tenant_access_token ?? answer.data?.tenant_access_token;
      if (typeof token !== 'string' || token.length === 0) {
        context.feishuCredentialsFailed = true;
        return { status: 'fail', summary: `${baseUrl} answered without a tenant_access_token` };
      }
      context.feishuClient = client;
      const expire = typeof top.expire === 'number' ? top.expire : answer.data?.expire;
      return {
        status: 'pass',
        summary: `tenant token issued by ${baseUrl} for ${appId}${expire === undefined ? '' : ` (valid ${expire} s)`}`,
      };
    } catch (thrown) {
      context.feishuCredentialsFailed = true;
      const error = toFeishuApiError('auth.v3.tenantAccessToken.internal', thrown);
      if (error.network || error.timedOut) {
        return {
          status: 'fail',
          summary: `cannot reach ${baseUrl}: ${error.message}`,
          fix: 'Check FEISHU_DOMAIN (feishu for open.feishu.cn, lark for open.larksuite.com) and that this host can reach it (firewall, proxy)',
        };
      }
      return {
        status: 'fail',
        summary: `Feishu refused the app credentials: code ${error.code ?? error.httpStatus} (${error.message})`,
        fix: 'Copy App ID and App Secret again from Credentials & Basic Info into FEISHU_APP_ID / FEISHU_APP_SECRET (or, for an app of FEISHU_APPS_FILE, its appId / appSecret); an app made on larksuite.com needs FEISHU_DOMAIN=lark',
      };
    }
  },
};

/** `bot/v3/info` answers: the bot capability is on and published, and mentions can be recognised. */
export const botIdentityCheck: DoctorCheck = {
  id: 'bot-identity',
  title: 'Bot identity',
  async run(context) {
    const client = context.feishuClient;
    if (client === undefined) return needsCredentials;
    try {
      const identity = await fetchBotIdentity(client, {
        attempts: 1,
        timeoutMs: context.timeouts.feishuMs,
        bus: context.bus,
      });
      return { status: 'pass', summary: `bot "${identity.name}" (open_id ${identity.openId})` };
    } catch (error) {
      return {
        status: 'fail',
        summary: `bot/v3/info did not name the bot: ${errorMessage(error)}`,
        fix: `Turn on the Bot capability (Features → Bot), ${PUBLISH}`,
      };
    }
  },
};

/** The tenant granted every scope the enabled features need (`GET /open-apis/application/v6/scopes`). */
export const scopesCheck: DoctorCheck = {
  id: 'feishu-scopes',
  title: 'App scopes',
  async run(context) {
    const client = context.feishuClient;
    if (client === undefined) return needsCredentials;
    let scopes: Array<{ scope_name: string; grant_status: number }>;
    try {
      const answer = await callFeishu(
        context.bus,
        'application.v6.scope.list',
        () => client.application.v6.scope.list(),
        {
          timeoutMs: context.timeouts.feishuMs,
        },
      );
      scopes = answer.data?.scopes ?? [];
    } catch (thrown) {
      const error = toFeishuApiError('application.v6.scope.list', thrown);
      if (error.code === APP_NOT_INSTALLED) {
        return {
          status: 'fail',
          summary: 'the app is not installed in this tenant (212100)',
          fix: `Publish the app: ${PUBLISH}`,
        };
      }
      return { status: 'fail', summary: `could not list the app's scopes: ${error.message}` };
    }
    const granted = new Set(scopes.filter((scope) => scope.grant_status === GRANTED).map((scope) => scope.scope_name));
    const pending = new Set(scopes.filter((scope) => scope.grant_status !== GRANTED).map((scope) => scope.scope_name));
    const details: string[] = [];
    const missing: { required: string[]; optional: string[] } = { required: [], optional: [] };
    for (const row of requiredScopes(context.config)) {
      if (!row.on) continue;
      const have = row.anyOf.find((scope) => granted.has(scope));
      if (have !== undefined) {
        details.push(`✔ ${row.feature}: ${have}`);
        continue;
      }
      const waiting = row.anyOf.filter((scope) => pending.has(scope));
      details.push(
        `${row.level === 'required' ? '✖' : '!'} ${row.feature}: needs ${row.anyOf.join(' or ')}` +
          (waiting.length > 0 ? ` (${waiting.join(', ')} requested, not granted yet)` : ''),
      );
      missing[row.level].push(row.anyOf[0]!);
    }
    const toAdd = [...missing.required, ...missing.optional];
    const fix = toAdd.length === 0 ? undefined : `Permissions & Scopes → add ${toAdd.join(', ')}; ${PUBLISH}`;
    if (missing.required.length > 0) {
      return {
        status: 'fail',
        summary: `${missing.required.length} required scope(s) not granted: ${missing.required.join(', ')}`,
        details,
        ...(fix === undefined ? {} : { fix }),
      };
    }
    if (missing.optional.length > 0) {
      return {
        status: 'warn',
        summary: `every required scope granted; ${missing.optional.length} optional one(s) missing: ${missing.optional.join(', ')}`,
        details,
        ...(fix === undefined ? {} : { fix }),
      };
    }
    return { status: 'pass', summary: `all ${details.length} features have their scopes`, details };
  },
};

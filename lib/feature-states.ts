import { type Config, isLoopbackHost } from './config.js';
import type { FeishuApp } from './feishu/feishu-apps.js';

/**
 * What is on, what is off and why, read from the configuration alone. The start-up banner, the
 * component states in `/health` and `npm run doctor` all say it the same way from here.
 */

/**
 * How the webhook checks that an event came from Feishu: `signed` (FEISHU_ENCRYPT_KEY),
 * `unsigned` (the verification token alone, FEISHU_ALLOW_UNSIGNED_WEBHOOK=true), `refused` (no
 * key and no opt-in: only the URL check is answered), `off` (no webhook).
 */
export type WebhookSecurity = 'signed' | 'unsigned' | 'refused' | 'off';

export interface FeatureState {
  /** Stable short name, e.g. `feishu`, `agent`, `devtools`. */
  name: string;
  on: boolean;
  /** When on: what it runs with; when off: why, and what turns it on. */
  detail: string;
}

type FeishuSettings = Pick<
  Config['feishu'],
  'enabled' | 'appId' | 'appSecret' | 'eventMode' | 'encryptKey' | 'allowUnsignedWebhook'
>;
type ModelSettings = Pick<Config['model'], 'enabled' | 'primary' | 'fallbacks' | 'apiKey' | 'baseURL'>;

/**
 * Why the agent is off (`no model: …`), or undefined when a model is configured.
 *
 * @example
 * agentOffReason(config.model); // 'no model: MODEL, OPENAI_API_KEY not set'
 */
export function agentOffReason(model: ModelSettings): string | undefined {
  if (model.enabled) return undefined;
  const missing: string[] = [];
  if (model.primary === undefined) missing.push('MODEL');
  if (model.apiKey === undefined && model.baseURL === undefined) missing.push('OPENAI_API_KEY');
  return `no model: ${missing.join(', ')} not set`;
}

/** Why the Feishu channel is off, or undefined when the app credentials are there. */
export function feishuOffReason(feishu: Pick<FeishuSettings, 'enabled' | 'appId' | 'appSecret'>): string | undefined {
  if (feishu.enabled) return undefined;
  const missing = [
    feishu.appId === undefined ? 'FEISHU_APP_ID' : undefined,
    feishu.appSecret === undefined ? 'FEISHU_APP_SECRET' : undefined,
  ].filter((name): name is string => name !== undefined);
  return `${missing.join(', ')} not set`;
}

/**
 * `signed` when webhook events must carry Feishu's signature (an encrypt key is set), `unsigned`
 * when the operator opted into the verification token alone, `refused` when neither (events are
 * refused), `off` without a webhook (no Feishu channel, or the long connection instead).
 */
export function webhookSecurity(feishu: FeishuSettings): WebhookSecurity {
  if (!feishu.enabled || feishu.eventMode !== 'webhook') return 'off';
  if (feishu.encryptKey !== undefined) return 'signed';
  return feishu.allowUnsignedWebhook ? 'unsigned' : 'refused';
}

/**
 * Every feature with its state, in the order the banner prints them.
 *
 * @example
 * for (const { name, on, detail } of featureStates(config)) console.log(on ? '✔' : '–', name, detail);
 */
export function featureStates(
  config: Pick<Config, 'feishu' | 'model' | 'devtools' | 'policy' | 'host' | 'search' | 'mcp'>,
): FeatureState[] {
  const { feishu, model, devtools } = config;
  const feishuOff = feishuOffReason(feishu);
  const webhook = webhookSecurity(feishu);
  const agentOff = agentOffReason(model);
  const chain = [model.primary, ...model.fallbacks].filter((name): name is string => name !== undefined);
  const states: FeatureState[] = [
    {
      name: 'feishu',
      on: feishuOff === undefined,
      detail:
        feishuOff === undefined
          ? feishu.eventMode === 'webhook'
            ? 'webhook (POST /webhook/event, /webhook/card)'
            : 'long connection (no public URL needed)'
          : `${feishuOff}: only the devtools playground can talk to the bot`,
    },
    {
      name: 'webhook-signature',
      on: webhook === 'signed',
      detail:
        webhook === 'signed'
          ? 'every event must carry a valid signature (FEISHU_ENCRYPT_KEY)'
          : webhook === 'unsigned'
            ? 'FEISHU_ENCRYPT_KEY not set and FEISHU_ALLOW_UNSIGNED_WEBHOOK=true: events are checked by the forgeable verification token alone'
            : webhook === 'refused'
              ? 'FEISHU_ENCRYPT_KEY not set: every event is refused (401) until it is, or FEISHU_ALLOW_UNSIGNED_WEBHOOK=true'
              : feishuOff === undefined
                ? 'no webhook: the long connection authenticates with the app credentials'
                : 'no webhook: Feishu channel off',
    },
    {
      name: 'agent',
      on: agentOff === undefined,
      detail: agentOff === undefined ? `model chain ${chain.join(' → ')}` : `${agentOff}: nobody gets an answer`,
    },
    {
      name: 'devtools',
      on: devtools.enabled,
      detail: devtools.enabled
        ? devtools.token === undefined
          ? 'loopback requests only (DEVTOOLS_TOKEN not set)'
          : isLoopbackHost(config.host)
            ? 'loopback, or any request with DEVTOOLS_TOKEN'
            : `DEVTOOLS_TOKEN on every request (HOST=${config.host} is not loopback: no loopback pass)`
        : 'ENABLE_DEVTOOLS is false (the default in production)',
    },
    {
      name: 'specialists-file',
      on: model.specialistsFile !== undefined,
      detail: model.specialistsFile ?? 'SPECIALISTS_FILE not set: built-in specialists only',
    },
    {
      name: 'web-search',
      on: config.search.provider !== undefined,
      detail:
        config.search.provider === undefined
          ? 'SEARCH_PROVIDER not set: the webSearch tool is off'
          : // The origin only: a base URL's path or query may carry what is not for a banner.
            `${config.search.provider}${config.search.baseURL === undefined ? '' : ` at ${new URL(config.search.baseURL).origin}`}`,
    },
    {
      name: 'mcp-servers',
      on: config.mcp.serversFile !== undefined,
      detail: config.mcp.serversFile ?? 'MCP_SERVERS_FILE not set: no MCP tools',
    },
    {
      name: 'allowlists',
      on: config.policy.allowedChatIds.length > 0 || config.policy.allowedUserIds.length > 0,
      detail:
        config.policy.allowedChatIds.length > 0 || config.policy.allowedUserIds.length > 0
          ? `${config.policy.allowedChatIds.length} chats, ${config.policy.allowedUserIds.length} users`
          : 'ALLOWED_CHAT_IDS / ALLOWED_USER_IDS empty: everyone may talk to the bot',
    },
  ];
  // Apps from FEISHU_APPS_FILE: one line per app instead of the single app's two.
  if (feishu.appsFile === undefined) return states;
  return states.flatMap((state) =>
    state.name === 'feishu' ? appFeatureStates(feishu.apps) : state.name === 'webhook-signature' ? [] : [state],
  );
}

/** One line per app: how its events arrive and how the webhook checks them. */
function appFeatureStates(apps: readonly FeishuApp[]): FeatureState[] {
  return apps.map((app) => {
    const webhook = webhookSecurity({ ...app, enabled: true });
    return {
      name: `feishu:${app.id}`,
      on: app.eventMode === 'websocket' || webhook !== 'refused',
      detail:
        app.eventMode === 'websocket'
          ? `${app.appId}: long connection (no public URL needed)`
          : `${app.appId}: webhook POST /webhook/${app.id}/event, /card (${
              webhook === 'signed'
                ? 'signed'
                : webhook === 'unsigned'
                  ? 'UNSIGNED: the forgeable verification token alone'
                  : 'no encryptKey: every event is refused'
            })`,
    };
  });
}

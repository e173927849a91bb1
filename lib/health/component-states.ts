import type { Config } from '../config.js';
import { agentOffReason, feishuOffReason, type WebhookSecurity, webhookSecurity } from '../feature-states.js';
import type { FeishuApp } from '../feishu/feishu-apps.js';
import type { ConnectionState } from '../observe/bot-event.js';
import type { HealthStatus } from './health-rules.js';
import type { HealthSnapshot } from './health-snapshot.js';
import { STORE_WRITES_CHECK } from './store-write-health.js';

/**
 * Each part of the bot in one word plus why, for `/health`: can the agent answer, how do Feishu
 * events arrive, does the store answer. Honest about what can serve: a bot that cannot answer
 * anyone is unhealthy, whatever the window of agent calls says.
 */

export interface AgentComponent {
  /** `ok`: a model answers; `degraded`: it fails or is rate-limited in the window; `off`: no model. */
  state: 'ok' | 'degraded' | 'off';
  reason?: string;
  /** The model chain, primary first (names only). */
  models?: string[];
}

export interface LongConnectionComponent {
  state: ConnectionState;
  connected: boolean;
  /** Why it is off, or the last connection error. */
  reason?: string;
  reconnects?: number;
  /** ISO time of the last event received over it, null before the first. */
  lastEventAt?: string | null;
}

/** One Feishu app's row, when the process serves several (FEISHU_APPS_FILE). */
export interface FeishuAppComponent {
  /** Feishu's app id (cli_…); the row's key is the configured id. */
  appId: string;
  webhook: WebhookSecurity;
  /** Where Feishu posts this app's events, in webhook mode. */
  path?: string;
  longConnection: LongConnectionComponent;
  /** The bot's identity (bot/v3/info), once Feishu answered. */
  bot?: { openId: string; name: string };
}

/** What an app's row is read from at each request. */
export interface FeishuAppSource {
  id: string;
  settings: Pick<FeishuApp, 'appId' | 'eventMode' | 'encryptKey' | 'allowUnsignedWebhook'>;
  path?: string | undefined;
  connection?: ConnectionStatus | undefined;
  bot?: { openId: string; name: string } | undefined;
}

export interface FeishuComponent {
  /**
   * `signed`: events need Feishu's signature; `unsigned`: the verification token alone (opted in
   * with FEISHU_ALLOW_UNSIGNED_WEBHOOK); `refused`: neither, every event is refused; `off`: no webhook.
   */
  webhook: WebhookSecurity;
  longConnection: LongConnectionComponent;
  /** Why the Feishu channel is off, when it is. */
  reason?: string;
  /** Every app served, by its configured id (`default` for FEISHU_APP_ID). */
  apps?: Record<string, FeishuAppComponent>;
}

export interface DependencyComponent {
  state: 'ok' | 'down';
  error?: string;
}

export interface ComponentStates {
  agent: AgentComponent;
  feishu: HealthSnapshot['feishu'] & FeishuComponent;
  store: DependencyComponent & { kind: string };
  /** Present when Redis is configured (STORE_URL=redis://…). */
  redis?: DependencyComponent;
  /** One row per MCP server (MCP_SERVERS_FILE), by name; absent without servers. */
  mcp?: Record<string, McpServerComponent>;
}

/** An MCP server's row: its connection and what it offers to whom. */
export interface McpServerComponent {
  transport: 'stdio' | 'http';
  state: 'connecting' | 'ready' | 'restarting' | 'closed';
  /** Tools offered to the agents; of them, those that may write (each call approved first); not offered ("writeTools": false). */
  offeredTools: number;
  writeTools?: number;
  skippedTools: number;
  /** `manager`, or the specialists the entry names. */
  agents: string[];
  restarts: number;
  lastError?: string;
  nextAttemptAt?: string;
}

/** The component states plus the status floor they impose, each with its reason. */
export interface ComponentReport {
  states: ComponentStates;
  floors: Array<{ status: HealthStatus; reason: string }>;
}

/** What the component states are read from at each `/health` request. */
export interface ComponentContext {
  snapshot: HealthSnapshot;
  /** Readiness check results of this request (`store` among them). */
  checks: ReadonlyArray<{ name: string; ok: boolean; error?: string }>;
}

interface ConnectionStatus {
  state: ConnectionState;
  reconnects: number;
  lastEventAt: number | null;
  lastError: string | null;
}

export interface ComponentStatesOptions {
  feishu: Pick<
    Config['feishu'],
    'enabled' | 'appId' | 'appSecret' | 'eventMode' | 'encryptKey' | 'allowUnsignedWebhook'
  >;
  model: Pick<Config['model'], 'enabled' | 'primary' | 'fallbacks' | 'apiKey' | 'baseURL'>;
  storeKind: string;
  /** The long connection's live state; undefined until it is started (and always in webhook mode). */
  connectionStatus?: () => ConnectionStatus | undefined;
  /** Whether a handler answers messages (the manager agent, or a stand-in wired by a test). */
  canAnswer: () => boolean;
  /** The MCP servers' live rows, read per request; none when no servers are configured. */
  mcpServers?: () => ReadonlyArray<McpServerComponent & { name: string }>;
  /** The Feishu apps served, read per request (connections and identities change). */
  apps?: () => readonly FeishuAppSource[];
}

/**
 * Builds the function `/health` calls to report the component states.
 *
 * @example
 * const components = componentStates({ feishu: config.feishu, model: config.model, storeKind: store.kind,
 *   connectionStatus: () => connection?.status(), canAnswer: () => 'answer' in handlers });
 * healthRoutes({ ..., components });
 */
export function componentStates({
  feishu,
  model,
  storeKind,
  connectionStatus = () => undefined,
  canAnswer,
  mcpServers = () => [],
  apps = () => [],
}: ComponentStatesOptions): (context: ComponentContext) => ComponentReport {
  const models = [model.primary, ...model.fallbacks].filter((name): name is string => name !== undefined);
  const agentOff = agentOffReason(model);
  const feishuOff = feishuOffReason(feishu);
  const webhook = webhookSecurity(feishu);

  return ({ snapshot, checks }) => {
    const floors: ComponentReport['floors'] = [];

    let agent: AgentComponent;
    if (agentOff !== undefined) {
      agent = { state: 'off', reason: agentOff };
    } else if (snapshot.status !== 'healthy' && (snapshot.calls.errors > 0 || snapshot.rateLimits.total > 0)) {
      agent = { state: 'degraded', reason: agentTrouble(snapshot), models };
    } else {
      agent = { state: 'ok', models };
    }
    if (!canAnswer()) {
      floors.push({
        status: 'unhealthy',
        reason: `agent off (${agentOff ?? 'no answer handler'}): messages are stored, nobody is answered`,
      });
    }

    const status = connectionStatus();
    let longConnection: LongConnectionComponent;
    if (status !== undefined) longConnection = liveConnection(status);
    else if (feishuOff !== undefined) longConnection = { state: 'off', connected: false, reason: feishuOff };
    else if (feishu.eventMode === 'webhook') {
      longConnection = { state: 'off', connected: false, reason: 'FEISHU_EVENT_MODE=webhook' };
    } else longConnection = { state: 'connecting', connected: false };

    // Down when it does not answer, and when it answers but cannot write (a full disk).
    const storeFailure = checks.find(
      (check) => (check.name === 'store' || check.name === STORE_WRITES_CHECK) && !check.ok,
    );
    const storeState: DependencyComponent =
      storeFailure === undefined ? { state: 'ok' } : { state: 'down', error: storeFailure.error ?? 'no answer' };

    const servers = mcpServers();
    const rows = apps();
    // A server that is not connected takes its tools away: degraded, by name, until it is back.
    for (const server of servers) {
      if (server.state !== 'ready') {
        floors.push({
          status: 'degraded',
          reason: `MCP server ${server.name} is ${server.state}${server.lastError ? `: ${server.lastError}` : ''}`,
        });
      }
    }

    return {
      states: {
        agent,
        feishu: {
          ...snapshot.feishu,
          webhook,
          longConnection,
          ...(feishuOff === undefined ? {} : { reason: feishuOff }),
          ...(rows.length === 0 ? {} : { apps: Object.fromEntries(rows.map((row) => [row.id, appRow(row)])) }),
        },
        store: { kind: storeKind, ...storeState },
        ...(storeKind === 'redis' ? { redis: storeState } : {}),
        ...(servers.length === 0
          ? {}
          : { mcp: Object.fromEntries(servers.map(({ name, ...row }) => [name, row] as const)) }),
      },
      floors,
    };
  };
}

function appRow({ settings, path, connection, bot }: FeishuAppSource): FeishuAppComponent {
  return {
    appId: settings.appId,
    webhook: webhookSecurity({ ...settings, enabled: true, appSecret: undefined }),
    ...(path === undefined ? {} : { path }),
    longConnection:
      connection !== undefined
        ? liveConnection(connection)
        : settings.eventMode === 'webhook'
          ? { state: 'off', connected: false, reason: 'webhook mode' }
          : { state: 'connecting', connected: false },
    ...(bot === undefined ? {} : { bot }),
  };
}

function liveConnection(status: ConnectionStatus): LongConnectionComponent {
  return {
    state: status.state,
    connected: status.state === 'connected',
    reconnects: status.reconnects,
    lastEventAt: status.lastEventAt === null ? null : new Date(status.lastEventAt).toISOString(),
    ...(status.lastError === null ? {} : { reason: status.lastError }),
  };
}

function agentTrouble(snapshot: HealthSnapshot): string {
  const parts: string[] = [];
  if (snapshot.calls.errors > 0) {
    parts.push(`${snapshot.calls.errors} of ${snapshot.calls.total} model calls failed`);
  }
  if (snapshot.rateLimits.total > 0) parts.push(`${snapshot.rateLimits.total} rate limits`);
  return `${parts.join(', ')} in the last ${snapshot.window.seconds} s`;
}

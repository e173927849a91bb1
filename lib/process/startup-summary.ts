import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import {
  agentOffReason,
  type FeatureState,
  featureStates,
  feishuOffReason,
  webhookSecurity,
} from '../feature-states.js';

/**
 * What an operator needs to know the moment the bot starts: which version listens where, where
 * devtools are (or why not), which URLs to give Feishu or how the long connection is doing,
 * which models answer, which store keeps the messages, and what is on or off and why. Logged as
 * one JSON line (`started`, field `startup`) and, on a terminal, as one readable block.
 */
export interface StartupSummary {
  version: string;
  instance: string;
  /** The bound address, e.g. `http://0.0.0.0:3000`. */
  listen: string;
  devtools: { url: string } | { off: string };
  feishu:
    | { mode: 'webhook'; security: 'signed' | 'unsigned' | 'refused'; eventUrl: string; cardUrl: string }
    | { mode: 'websocket'; longConnection: string }
    | { off: string };
  model: { primary: string; fallbacks: string[]; baseURL: string } | { off: string };
  /** STORE_URL without any credentials in it. */
  store: string;
  features: FeatureState[];
}

export interface StartupSummaryOptions {
  config: Pick<Config, 'instanceId' | 'host' | 'feishu' | 'model' | 'devtools' | 'policy' | 'store' | 'search' | 'mcp'>;
  /** The bound port (PORT=0 picks one). */
  port: number;
  /** The long connection's state at this moment, in websocket mode. */
  longConnectionState?: string;
  version?: string;
}

/**
 * @example
 * const startup = startupSummary({ config, port, longConnectionState: connection?.status().state });
 * log.info({ startup }, 'started');
 */
export function startupSummary({
  config,
  port,
  longConnectionState = 'connecting',
  version = packageVersion(),
}: StartupSummaryOptions): StartupSummary {
  const listen = `http://${urlHost(config.host)}:${port}`;
  // A wildcard bind is reached at localhost from the machine itself.
  const local = `http://${['0.0.0.0', '::', '[::]'].includes(config.host) ? '127.0.0.1' : urlHost(config.host)}:${port}`;
  const feishuOff = feishuOffReason(config.feishu);
  const webhook = webhookSecurity(config.feishu);
  const agentOff = agentOffReason(config.model);
  const { primary } = config.model;
  return {
    version,
    instance: config.instanceId,
    listen,
    devtools: config.devtools.enabled
      ? { url: `${local}/devtools` }
      : { off: 'ENABLE_DEVTOOLS is false (the default in production)' },
    feishu:
      feishuOff !== undefined
        ? { off: feishuOff }
        : webhook === 'off'
          ? { mode: 'websocket', longConnection: longConnectionState }
          : {
              mode: 'webhook',
              security: webhook,
              eventUrl: `${local}/webhook/event`,
              cardUrl: `${local}/webhook/card`,
            },
    model:
      agentOff !== undefined || primary === undefined
        ? { off: agentOff ?? 'no model' }
        : { primary, fallbacks: config.model.fallbacks, baseURL: config.model.baseURL ?? 'https://api.openai.com/v1' },
    store: withoutCredentials(config.store.url),
    features: featureStates(config),
  };
}

/**
 * The summary as a block a person reads at a glance.
 *
 * @example
 * log.info(`started\n${formatStartupBanner(startup)}`);
 */
export function formatStartupBanner(summary: StartupSummary): string {
  const rows: Array<[string, string]> = [['listening', summary.listen]];
  rows.push(['devtools', 'url' in summary.devtools ? summary.devtools.url : `off: ${summary.devtools.off}`]);
  const { feishu } = summary;
  if ('off' in feishu) rows.push(['feishu', `off: ${feishu.off}`]);
  else if (feishu.mode === 'webhook') {
    rows.push(['feishu', `webhook, ${feishu.security}; give Feishu your public https URL with these paths`]);
    rows.push(['', `events        ${feishu.eventUrl}`]);
    rows.push(['', `card actions  ${feishu.cardUrl}`]);
  } else rows.push(['feishu', `long connection, ${feishu.longConnection}`]);
  const { model } = summary;
  rows.push([
    'model',
    'off' in model ? `off: ${model.off}` : `${[model.primary, ...model.fallbacks].join(' → ')} at ${model.baseURL}`,
  ]);
  rows.push(['store', summary.store]);
  summary.features.forEach((feature, index) => {
    rows.push([index === 0 ? 'features' : '', `${feature.on ? '✔' : '–'} ${feature.name}: ${feature.detail}`]);
  });
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `feishu-agent-bot ${summary.version} (instance ${summary.instance})`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ].join('\n');
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `redis://user:password@host:6379` → `redis://host:6379`; SQLite paths stay as they are. */
export function withoutCredentials(url: string): string {
  if (!/^rediss?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

let cachedVersion: string | undefined;

/** The version in the nearest package.json above this file (lib/ in development, dist/lib/ when built). */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let directory = import.meta.dirname;
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      const { version } = JSON.parse(readFileSync(candidate, 'utf8')) as { version?: unknown };
      cachedVersion = typeof version === 'string' ? version : 'unknown';
      return cachedVersion;
    }
    directory = dirname(directory);
  }
  return 'unknown';
}

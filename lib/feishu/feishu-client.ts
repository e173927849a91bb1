import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../log.js';
import { installRequestSignal } from './request-signal.js';

export type FeishuClient = lark.Client;

/** Maps FEISHU_DOMAIN (`feishu`, `lark` or a base URL such as a test fake) to the SDK's domain. */
export function feishuDomain(domain: string): lark.Domain | string {
  if (domain === 'feishu') return lark.Domain.Feishu;
  if (domain === 'lark') return lark.Domain.Lark;
  return domain.replace(/\/+$/, '');
}

/** The Open API base URL for raw HTTP calls the SDK has no method for. */
export function feishuBaseUrl(domain: string): string {
  if (domain === 'feishu') return 'https://open.feishu.cn';
  if (domain === 'lark') return 'https://open.larksuite.com';
  return domain.replace(/\/+$/, '');
}

/**
 * The SDK client for one self-built app. The SDK caches the tenant_access_token itself.
 *
 * @example
 * const client = createFeishuClient({ appId, appSecret, domain: 'http://127.0.0.1:9000', log });
 * await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { ... } });
 */
export function createFeishuClient({
  appId,
  appSecret,
  domain = 'feishu',
  log,
}: {
  appId: string;
  appSecret: string;
  domain?: string;
  /**
   * The app's logger: the SDK's own lines (it logs every failed request) go through it at its
   * level, so a silent test logger silences the faults a test injects on purpose.
   */
  log: Logger;
}): FeishuClient {
  // Tool calls cancel their Feishu requests when stopped (`withRequestSignal`).
  installRequestSignal();
  return new lark.Client({
    appId,
    appSecret,
    appType: lark.AppType.SelfBuild,
    domain: feishuDomain(domain),
    // The Client only ever logs errors; the app logger's level decides whether they are written.
    loggerLevel: lark.LoggerLevel.error,
    logger: sdkLogger(log, 'feishu-sdk'),
  });
}

/**
 * One argument of an SDK log call reduced to its gist (message, HTTP status, Feishu code and
 * msg). The SDK passes whole axios errors to its logger, request headers included, so printing
 * them as they are would print `Authorization: Bearer <tenant token>`.
 */
export function sdkLogGist(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const record = value as {
    message?: unknown;
    response?: { status?: unknown; data?: unknown };
    code?: unknown;
    msg?: unknown;
  };
  const data = record.response?.data as { code?: unknown; msg?: unknown } | undefined;
  const parts = [
    typeof record.message === 'string' ? record.message : undefined,
    record.response?.status === undefined ? undefined : `status=${String(record.response.status)}`,
    data?.code === undefined ? undefined : `code=${String(data.code)}`,
    typeof data?.msg === 'string' ? `msg=${data.msg}` : undefined,
    record.code === undefined || typeof record.message === 'string' ? undefined : `code=${String(record.code)}`,
    typeof record.msg === 'string' && typeof record.message !== 'string' ? `msg=${record.msg}` : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts.join(' ') : Array.isArray(value) ? value.map(sdkLogGist).join(' ') : '[object]';
}

/**
 * The SDK's logger interface over the app logger: each call's gist (see sdkLogGist, never request
 * headers) at the same level, tagged with `component`. Debug and trace are dropped: the SDK's
 * debug lines include the long connection's URL, whose query carries a short-lived ticket.
 *
 * @example
 * new lark.WSClient({ appId, appSecret, logger: sdkLogger(log, 'feishu-ws') });
 */
export function sdkLogger(log: Logger, component: string): lark.Logger {
  const line = (messages: unknown[]) => messages.map(sdkLogGist).join(' ');
  return {
    error: (...messages: unknown[]) => log.error({ component }, line(messages)),
    warn: (...messages: unknown[]) => log.warn({ component }, line(messages)),
    info: (...messages: unknown[]) => log.info({ component }, line(messages)),
    debug: () => {},
    trace: () => {},
  };
}

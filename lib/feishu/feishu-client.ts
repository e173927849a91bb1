import * as lark from '@larksuiteoapi/node-sdk';

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
 * const client = createFeishuClient({ appId, appSecret, domain: 'http://127.0.0.1:9000' });
 * await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { ... } });
 */
export function createFeishuClient({
  appId,
  appSecret,
  domain = 'feishu',
  logger = safeSdkLogger(),
}: {
  appId: string;
  appSecret: string;
  domain?: string;
  /** Where the SDK's own log lines go; the default never prints request headers (see safeSdkLogger). */
  logger?: lark.Logger;
}): FeishuClient {
  return new lark.Client({
    appId,
    appSecret,
    appType: lark.AppType.SelfBuild,
    domain: feishuDomain(domain),
    loggerLevel: lark.LoggerLevel.error,
    logger,
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
 * An SDK logger that writes each call's gist (see sdkLogGist) to stderr, never request headers.
 * Callers see the failure itself through the thrown error.
 */
export function safeSdkLogger(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): lark.Logger {
  const line =
    (level: string) =>
    (...messages: unknown[]) =>
      write(`[lark-sdk] ${level}: ${messages.map(sdkLogGist).join(' ')}`);
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug'), trace: line('trace') };
}

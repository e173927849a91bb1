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
}: {
  appId: string;
  appSecret: string;
  domain?: string;
}): FeishuClient {
  return new lark.Client({
    appId,
    appSecret,
    appType: lark.AppType.SelfBuild,
    domain: feishuDomain(domain),
    loggerLevel: lark.LoggerLevel.error,
  });
}

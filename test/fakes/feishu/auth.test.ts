import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { createFeishuClient } from '../../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../../lib/log.js';
import { FEISHU_CODES, startFakeFeishu } from '../fake-feishu.js';
import { sdkFailure, text, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu auth: tenant tokens with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('issues a tenant token once and the SDK caches it across calls', async () => {
    const { fake, client } = feishu();
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_a', msg_type: 'text', content: text('one') },
    });
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_a', msg_type: 'text', content: text('two') },
    });
    expect(fake.callsTo('auth.tenantAccessToken')).toHaveLength(1);
    const [tokenCall] = fake.callsTo('auth.tenantAccessToken');
    expect(tokenCall?.body).toEqual({ app_id: fake.appId, app_secret: fake.appSecret });
    const sends = fake.callsTo('im.message.create');
    expect(sends.map((call) => call.headers.authorization)).toEqual([
      `Bearer ${fake.issuedTokens()[0]}`,
      `Bearer ${fake.issuedTokens()[0]}`,
    ]);
  });

  it('re-fetches the token once the SDK considers it expired', async () => {
    const shortLived = await startFakeFeishu({ tokenExpireSeconds: 180 });
    try {
      // The SDK caches for expire − 180 s, so a 180 s token is stale at once.
      const shortClient = createFeishuClient({
        appId: shortLived.appId,
        appSecret: shortLived.appSecret,
        domain: shortLived.url,
        log: silentLogger(),
      });
      for (const value of ['a', 'b']) {
        await shortClient.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: 'oc_a', msg_type: 'text', content: text(value) },
        });
      }
      expect(shortLived.callsTo('auth.tenantAccessToken')).toHaveLength(2);
      expect(new Set(shortLived.issuedTokens()).size).toBe(2);
    } finally {
      await shortLived.close();
    }
  });

  it('rejects a wrong app secret at the token endpoint', async () => {
    const { fake } = feishu();
    const wrong = createFeishuClient({ appId: fake.appId, appSecret: 'nope', domain: fake.url, log: silentLogger() });
    const failure = await sdkFailure(wrong.request({ url: '/open-apis/bot/v3/info', method: 'GET' }));
    expect(failure.code).toBe(FEISHU_CODES.appSecretInvalid);
  });

  it('answers 99991663 for invalidated and server-side expired tokens', async () => {
    const { fake, client } = feishu();
    await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' });
    fake.invalidateTokens();
    const failure = await sdkFailure(client.request({ url: '/open-apis/bot/v3/info', method: 'GET' }));
    expect(failure).toMatchObject({ status: 400, code: FEISHU_CODES.invalidAccessToken });

    // Server-side expiry: the SDK still trusts its cached token, the fake no longer does.
    const other = await startFakeFeishu({ tokenExpireSeconds: 3600 });
    try {
      const otherClient = createFeishuClient({
        appId: other.appId,
        appSecret: other.appSecret,
        domain: other.url,
        log: silentLogger(),
      });
      await otherClient.request({ url: '/open-apis/bot/v3/info', method: 'GET' });
      other.advanceClock(3601 * 1000);
      const expired = await sdkFailure(otherClient.request({ url: '/open-apis/bot/v3/info', method: 'GET' }));
      expect(expired.code).toBe(FEISHU_CODES.invalidAccessToken);
    } finally {
      await other.close();
    }
  });

  it('after invalidateTokens, evicting the SDK cached token makes the next call fetch a working one', async () => {
    const { fake, client } = feishu();
    await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' });
    fake.invalidateTokens();
    // What the app does on 99991663: overwrite the SDK cache entry with an expired one.
    await client.tokenManager.cache.set(lark.CTenantAccessToken, '', 1, { namespace: fake.appId });
    const info = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as { code: number };
    expect(info.code).toBe(0);
    expect(fake.issuedTokens()).toHaveLength(2);
  });

  it('answers 99991661 without an Authorization header', async () => {
    const { fake } = feishu();
    const response = await fetch(`${fake.url}/open-apis/bot/v3/info`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: FEISHU_CODES.missingAccessToken });
  });
});

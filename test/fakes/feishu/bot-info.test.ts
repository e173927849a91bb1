import { describe, expect, it } from 'vitest';
import { createFeishuClient } from '../../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../../lib/log.js';
import { startFakeFeishu } from '../fake-feishu.js';
import { useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu bot info with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('serves bot info with bot at the top level, through client.request', async () => {
    const { fake, client } = feishu();
    const info = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as {
      code: number;
      bot: { open_id: string; app_name: string; activate_status: number };
    };
    expect(info.code).toBe(0);
    expect(info.bot).toMatchObject({ open_id: fake.botOpenId, app_name: fake.botName, activate_status: 2 });
  });
});

describe('fake Feishu with two apps of one tenant', () => {
  it('gives each app its own tenant token and bot, and records which app made each call', async () => {
    const fake = await startFakeFeishu({ otherApps: [{ botName: 'Beta' }] });
    try {
      const [alpha, beta] = fake.apps;
      if (alpha === undefined || beta === undefined) throw new Error('two apps expected');
      const clientOf = (app: typeof alpha) =>
        createFeishuClient({ appId: app.appId, appSecret: app.appSecret, domain: fake.url, log: silentLogger() });
      const info = async (app: typeof alpha) =>
        (
          (await clientOf(app).request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as {
            bot: { open_id: string };
          }
        ).bot.open_id;
      expect(await info(alpha)).toBe(alpha.botOpenId);
      expect(await info(beta)).toBe(beta.botOpenId);
      expect(alpha.botOpenId).not.toBe(beta.botOpenId);
      expect(fake.callsTo('bot.info').map((call) => call.app)).toEqual([alpha.appId, beta.appId]);
      const tokens = fake.callsTo('bot.info').map((call) => call.headers.authorization);
      expect(new Set(tokens).size).toBe(2);
      // A known app id with another app's secret gets no token.
      const refused = await fetch(`${fake.url}/open-apis/auth/v3/tenant_access_token/internal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app_id: beta.appId, app_secret: alpha.appSecret }),
      });
      expect(((await refused.json()) as { code: number }).code).toBe(10014);
    } finally {
      await fake.close();
    }
  });
});

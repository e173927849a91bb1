import { describe, expect, it } from 'vitest';
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

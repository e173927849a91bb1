import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFeishu, startFakeFeishu } from '../../test/fakes/fake-feishu.js';
import { silentLogger } from '../log.js';
import { BotIdentityError, fetchBotIdentity } from './bot-identity.js';
import { createFeishuClient } from './feishu-client.js';

describe('fetchBotIdentity (real SDK client against the fake Feishu)', () => {
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = await startFakeFeishu({ botName: 'Helper' });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.clearCalls());

  const client = () =>
    createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url, log: silentLogger() });

  it('reads the bot’s open_id (not the app id) and caches it per client', async () => {
    const feishu = client();
    const [first, second] = await Promise.all([fetchBotIdentity(feishu), fetchBotIdentity(feishu)]);
    expect(first).toEqual({ openId: fake.botOpenId, name: 'Helper' });
    expect(second).toBe(first);
    await fetchBotIdentity(feishu);
    expect(fake.callsTo('bot.info')).toHaveLength(1);
  });

  it('retries a failing call a bounded number of times', async () => {
    fake.inject({ api: 'bot.info', status: 500, times: 2 });
    const identity = await fetchBotIdentity(client(), { attempts: 3, retryDelayMs: 5 });
    expect(identity.openId).toBe(fake.botOpenId);
    expect(fake.callsTo('bot.info')).toHaveLength(3);
  });

  it('recovers from a cached token Feishu no longer accepts (99991663)', async () => {
    const feishu = client();
    await fetchBotIdentity(client());
    fake.invalidateTokens();
    expect((await fetchBotIdentity(feishu, { attempts: 1 })).openId).toBe(fake.botOpenId);
  });

  it('gives up with a typed error, and does not cache the failure', async () => {
    fake.inject({ api: 'bot.info', status: 500, times: 2 });
    const feishu = client();
    const failure = await fetchBotIdentity(feishu, { attempts: 2, retryDelayMs: 5 }).catch((error: unknown) => error);
    expect(BotIdentityError.isInstance(failure)).toBe(true);
    expect(fake.callsTo('bot.info')).toHaveLength(2);
    expect((await fetchBotIdentity(feishu, { attempts: 1 })).openId).toBe(fake.botOpenId);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import type { HealthBody } from '../../lib/health/health-routes.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, p2pChatIdFor, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';

/**
 * A model provider outage and its end, as users and an operator see it: signed, encrypted
 * webhook events from people in their own direct chats → the running bot (primary and one
 * fallback model, breaker and health settings default but a 20 s window) → cards in the fake
 * Feishu; `/health` over HTTP. Real time, so the bounds are generous.
 */

const encryptKey = 'recovery-encrypt-key';
const token = 'recovery-verification-token';
const MODELS = ['gpt-test', 'gpt-test-fallback'];

describe('a provider outage and its recovery, end to end', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let users = 0;

  beforeAll(async () => {
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
    bot = await startBot(
      loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        ...feishu.env(),
        FEISHU_ENCRYPT_KEY: encryptKey,
        FEISHU_VERIFICATION_TOKEN: token,
        OPENAI_BASE_URL: openai.baseURL,
        OPENAI_API_KEY: openai.apiKey,
        MODEL: MODELS[0],
        FALLBACK_MODELS: MODELS[1],
        MODEL_MAX_RETRY_DELAY_MS: '200',
        HEALTH_WINDOW_SECONDS: '20',
        STORE_URL: 'sqlite::memory:',
        ENABLE_DEVTOOLS: 'false',
      }),
      { log: silentLogger(), dispatcher: { pollIntervalMs: 50 } },
    );
  });

  afterAll(async () => {
    await bot?.stop();
    await openai?.close();
    await feishu?.close();
  });

  const health = async () => {
    const response = await fetch(`http://127.0.0.1:${bot.port}/health`);
    return { status: response.status, body: (await response.json()) as HealthBody };
  };

  /** A new person asks in their own direct chat; resolves with what their card finally says. */
  async function ask(text: string): Promise<string> {
    const user = `ou_recovery_${(users++).toString(16).padStart(6, '0')}`;
    const event = buildMessageEvent({
      fake: feishu,
      chatType: 'p2p',
      chatId: p2pChatIdFor(user),
      senderOpenId: user,
      text,
      token,
    });
    const response = await postEvent(`http://127.0.0.1:${bot.port}/webhook/event`, event, { encryptKey });
    expect(response.status).toBe(200);
    const messageId = event.event.message.message_id;
    const replyId = await feishu.waitFor(
      () => {
        const [reply] = feishu.repliesTo(messageId, { fromBot: true });
        const card = reply ? feishu.cardForMessage(reply.messageId) : undefined;
        return card !== undefined && !card.streaming ? reply!.messageId : undefined;
      },
      { timeoutMs: 20_000, description: `a closed card answering ${messageId}` },
    );
    return feishu.visibleText(replyId);
  }

  it('answers people again within seconds of the recovery, and /health follows without flapping', async () => {
    expect(await ask('before the outage')).toContain('echo: before the outage');

    for (const model of MODELS) openai.alwaysFail(model, { status: 503, message: 'The server is overloaded' });
    const failed: string[] = [];
    while ((await health()).status === 200) {
      failed.push(await ask(`during the outage ${failed.length}`));
      expect(failed.length).toBeLessThanOrEqual(10);
    }
    // Every person during the outage got an honest notice, never silence.
    for (const text of failed) expect(text).toMatch(/Something went wrong|pausing requests/);
    const outage = (await health()).body;
    expect(outage.models?.['gpt-test']).toMatchObject({ failures: expect.any(Number), breaker: { state: 'open' } });
    expect(outage.concurrency?.byModel['gpt-test']).toMatchObject({ limit: expect.any(Number) });

    openai.clearFaults();
    const recoveredAt = Date.now();
    let answeredAt: number | undefined;
    let healthyAt: number | undefined;
    const statuses: number[] = [];
    for (let index = 0; Date.now() - recoveredAt < 40_000; index++) {
      const text = await ask(`after the recovery ${index}`);
      if (text.includes(`echo: after the recovery ${index}`)) answeredAt ??= Date.now();
      const { status } = await health();
      statuses.push(status);
      if (status === 200) healthyAt ??= Date.now();
      if (healthyAt !== undefined && Date.now() - healthyAt > 5_000) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // The breakers probe within a few seconds (first cooldown 1 s, at most 4 s); the margin is
    // for a loaded machine (the simulated-clock test holds the 5 s goal exactly).
    expect(answeredAt! - recoveredAt).toBeLessThan(10_000);
    // Back to 200 within the window + 15 s, and no 503 once it was 200.
    expect(healthyAt! - recoveredAt).toBeLessThan(35_000);
    expect(statuses.slice(statuses.indexOf(200))).not.toContain(503);
    const after = (await health()).body;
    expect(after.models?.['gpt-test']?.breaker.state).toBe('closed');
  }, 120_000);
});

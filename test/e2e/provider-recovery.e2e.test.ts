import { describe, expect, it } from 'vitest';
import type { HealthBody } from '../../lib/health/health-routes.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { p2pChatIdFor } from '../fakes/fake-feishu.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * A model provider outage and its end, as users and an operator see it: signed, encrypted
 * webhook events from people in their own direct chats → the running bot (primary and one
 * fallback model, breaker and health settings default but a 20 s window) → cards in the fake
 * Feishu; `/health` over HTTP. Real time, so the bounds are generous.
 */

const MODELS = ['gpt-test', 'gpt-test-fallback'];

describe('a provider outage and its recovery, end to end', () => {
  const service = useE2eService({
    env: {
      MODEL: MODELS[0],
      FALLBACK_MODELS: MODELS[1],
      MODEL_MAX_RETRY_DELAY_MS: '200',
      HEALTH_WINDOW_SECONDS: '20',
    },
  });
  let users = 0;

  const health = async () => {
    const response = await fetch(`${service.base}/health`);
    return { status: response.status, body: (await response.json()) as HealthBody };
  };

  /** A new person asks in their own direct chat; resolves with what their card finally says. */
  async function ask(text: string): Promise<string> {
    const user = `ou_recovery_${(users++).toString(16).padStart(6, '0')}`;
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'p2p',
      chatId: p2pChatIdFor(user),
      senderOpenId: user,
      text,
      token: service.token,
    });
    const response = await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey });
    expect(response.status).toBe(200);
    const messageId = event.event.message.message_id;
    const replyId = await service.feishu.waitFor(
      () => {
        const [reply] = service.feishu.repliesTo(messageId, { fromBot: true });
        const card = reply ? service.feishu.cardForMessage(reply.messageId) : undefined;
        return card !== undefined && !card.streaming ? reply!.messageId : undefined;
      },
      { timeoutMs: 20_000, description: `a closed card answering ${messageId}` },
    );
    return service.feishu.visibleText(replyId);
  }

  it('answers people again within seconds of the recovery, and /health follows without flapping', async () => {
    expect(await ask('before the outage')).toContain('echo: before the outage');

    for (const model of MODELS) service.openai.alwaysFail(model, { status: 503, message: 'The server is overloaded' });
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

    service.openai.clearFaults();
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

import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/** startBot wires the monitor and metrics to the bus and serves /health*, /metrics over a real socket. */
describe('health and metrics wired into startBot', () => {
  const bots: RunningBot[] = [];
  afterEach(async () => {
    await Promise.all(bots.splice(0).map((bot) => bot.stop()));
  });

  async function start(instanceId: string) {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      STORE_URL: 'sqlite::memory:',
      INSTANCE_ID: instanceId,
      ENABLE_DEVTOOLS: 'false',
    });
    const bot = await startBot(config, { log: silentLogger() });
    bots.push(bot);
    const get = (path: string) => fetch(`http://127.0.0.1:${bot.port}${path}`);
    return { bot, get };
  }

  it('answers /health, /health/live, /health/ready and /metrics, fed by bus events', async () => {
    const { bot, get } = await start('wiring-a');
    expect((await get('/health/live')).status).toBe(200);
    const ready = await get('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: [
        { name: 'store', ok: true },
        { name: 'store-writes', ok: true },
      ],
    });

    const healthy = await get('/health');
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ status: 'healthy', instance: 'wiring-a', window: { seconds: 300 } });

    for (let index = 0; index < 5; index++) {
      bot.bus.emit({
        type: 'agent.call',
        traceId: `t${index}`,
        agent: 'manager',
        model: 'gpt-4o-mini',
        latencyMs: 1_000,
        outcome: 'error',
        inputTokens: 0,
        outputTokens: 0,
        errorCategory: 'NETWORK',
      });
    }
    const unhealthy = await get('/health');
    expect(unhealthy.status).toBe(503);
    expect(await unhealthy.json()).toMatchObject({
      status: 'unhealthy',
      agents: { manager: { callCount: 5, errorCount: 5 } },
      errors: { total: 5, byCategory: { NETWORK: 5 } },
    });
    // /health reads the monitor startBot created and hands out, not a process-wide one.
    expect(bot.monitor.snapshot().calls.total).toBe(5);

    const metrics = await get('/metrics');
    const families = parsePrometheusText(await metrics.text());
    expect(sampleValue(families, 'feishu_bot_agent_calls_total', { agent: 'manager', outcome: 'error' })).toBe(5);
    expect(sampleValue(families, 'feishu_bot_health_status', { status: 'unhealthy', instance: 'wiring-a' })).toBe(1);
    expect(sampleValue(families, 'feishu_bot_store_up')).toBe(1);
    expect(sampleValue(families, 'feishu_bot_inbox_depth')).toBe(0);
  });

  it('keeps two bots in one process apart and stop() turns ready to 503', async () => {
    const first = await start('wiring-b');
    const second = await start('wiring-c');
    first.bot.bus.emit({ type: 'model.rate-limit', model: 'm', retryAfterMs: 10 });
    expect(first.bot.monitor.snapshot().rateLimits.total).toBe(1);
    expect(second.bot.monitor.snapshot().rateLimits.total).toBe(0);

    await first.bot.stop();
    expect(first.bot.readiness.phase).toBe('draining');
    const afterStop = await first.bot.app.request('/health/ready');
    expect(afterStop.status).toBe(503);
    await expect(first.get('/health/live')).rejects.toThrow();
    // stop() twice is fine.
    await first.bot.stop();
  });
});

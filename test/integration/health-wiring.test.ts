import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBot, type StartBotOptions, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import type { HealthBody } from '../../lib/health/health-routes.js';
import { silentLogger } from '../../lib/log.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/** startBot wires the monitor and metrics to the bus and serves /health*, /metrics over a real socket. */
describe('health and metrics wired into startBot', () => {
  const bots: RunningBot[] = [];
  afterEach(async () => {
    await Promise.all(bots.splice(0).map((bot) => bot.stop()));
  });

  // A model that is configured but never called: no test here sends a message.
  const model = { MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-never-used', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' };

  async function start(instanceId: string, env: Record<string, string> = model, options: StartBotOptions = {}) {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      STORE_URL: 'sqlite::memory:',
      INSTANCE_ID: instanceId,
      ENABLE_DEVTOOLS: 'false',
      ...env,
    });
    const bot = await startBot(config, { log: silentLogger(), ...options });
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
    expect(await healthy.json()).toMatchObject({
      status: 'healthy',
      instance: 'wiring-a',
      window: { seconds: 300 },
      // Agent runs follow the model's adaptive limit (16 to start), within MAX_CONCURRENT_JOBS.
      concurrency: {
        limit: 16,
        ceiling: 64,
        running: 0,
        byModel: { 'gpt-test': { limit: 16, inFlight: 0, waiting: 0, reason: 'starting limit 16', changedAt: null } },
      },
    });

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
    expect(sampleValue(families, 'feishu_bot_concurrency_limit')).toBe(16);
    expect(sampleValue(families, 'feishu_bot_concurrency_ceiling')).toBe(64);
    expect(sampleValue(families, 'feishu_bot_model_concurrency_limit', { model: 'gpt-test' })).toBe(16);
    expect(sampleValue(families, 'feishu_bot_model_requests_in_flight', { model: 'gpt-test' })).toBe(0);
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

  it('says the agent is off without a model, and is unhealthy while nobody can be answered', async () => {
    const { get } = await start('wiring-d', {});
    const response = await get('/health');
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe('unhealthy');
    expect(body.agent).toEqual({ state: 'off', reason: 'no model: MODEL, OPENAI_API_KEY not set' });
    expect(body.reasons).toContain(
      'agent off (no model: MODEL, OPENAI_API_KEY not set): messages are stored, nobody is answered',
    );
    expect(body.feishu).toMatchObject({ webhook: 'off', longConnection: { state: 'off', connected: false } });
    expect(body.store).toEqual({ kind: 'sqlite', state: 'ok' });
    // Live and ready stay 200: restarting or unrouting the process would not give it a model.
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);

    const withStandIn = await start('wiring-e', {}, { handlers: () => ({ answer: async () => {} }) });
    const standIn = (await (await withStandIn.get('/health')).json()) as HealthBody;
    expect(standIn.status).toBe('healthy');
    expect(standIn.agent?.state).toBe('off');

    const withModel = await start('wiring-f');
    const ok = (await (await withModel.get('/health')).json()) as HealthBody;
    expect(ok.agent).toEqual({ state: 'ok', models: ['gpt-test'] });
  });
});

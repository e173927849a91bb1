import { describe, expect, it } from 'vitest';
import { createReadiness } from '../process/readiness.js';
import { HealthMonitor } from './health-monitor.js';
import { type HealthBody, healthReport, healthRoutes, type ReadinessCheck } from './health-routes.js';

function setup({ checks = [], storeFails = false }: { checks?: ReadinessCheck[]; storeFails?: boolean } = {}) {
  const clock = { now: Date.UTC(2026, 0, 1, 12) };
  const monitor = new HealthMonitor({ now: () => clock.now });
  const readiness = createReadiness();
  const store = {
    ping: async () => {
      if (storeFails) throw new Error('SQLITE_CANTOPEN: unable to open database file');
    },
  };
  const app = healthRoutes({
    monitor,
    readiness,
    store,
    startedAt: clock.now - 12_345,
    checks,
    instanceId: 'host-a:1',
    checkTimeoutMs: 50,
    now: () => clock.now,
  });
  return { app, monitor, readiness, clock };
}

describe('GET /health', () => {
  it('answers 200 with the contract body when healthy', async () => {
    const { app, monitor } = setup();
    monitor.trackAgentCall('manager', 420, 'success');
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as HealthBody;
    expect(body).toMatchObject({
      status: 'healthy',
      uptime: 12.3,
      window: { seconds: 300 },
      errors: { total: 0, rateLimits: 0, timeouts: 0, other: 0 },
      lastError: null,
      reasons: [],
      instance: 'host-a:1',
      phase: 'starting',
    });
    expect(Date.parse(body.timestamp)).not.toBeNaN();
    expect(typeof body.errors.byCategory).toBe('object');
    const manager = body.agents.manager!;
    for (const field of ['callCount', 'successCount', 'errorCount', 'avgLatency', 'p95Latency', 'lastCall']) {
      expect(manager).toHaveProperty(field);
    }
    expect(manager.callCount).toBe(1);
    expect(body.checks).toEqual([{ name: 'store', ok: true, critical: true, durationMs: 0 }]);
  });

  it('answers 200 when degraded, with the reasons', async () => {
    const { app, monitor } = setup();
    for (let index = 0; index < 5; index++) monitor.trackRateLimit('gpt-4o');
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe('degraded');
    expect(body.reasons[0]).toMatch(/rate limits/);
  });

  it('answers 503 when unhealthy, with lastError', async () => {
    const { app, monitor } = setup();
    for (let index = 0; index < 5; index++) {
      monitor.trackAgentCall('manager', 30_000, 'error');
      monitor.trackError('TIMEOUT', 'first token did not arrive within 30000 ms');
    }
    const response = await app.request('/health');
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(body).toMatchObject({
      status: 'unhealthy',
      errors: { total: 5, timeouts: 5 },
      lastError: { category: 'TIMEOUT', message: 'first token did not arrive within 30000 ms' },
    });
  });

  it('is unhealthy when a critical check fails and degraded when a non-critical one does', async () => {
    const failingStore = setup({ storeFails: true });
    const response = await failingStore.app.request('/health');
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(body.reasons).toContain('check store failed: SQLITE_CANTOPEN: unable to open database file');

    const slowConnection = setup({
      checks: [{ name: 'long-connection', critical: false, check: () => new Promise(() => {}) }],
    });
    const degraded = await slowConnection.app.request('/health');
    expect(degraded.status).toBe(200);
    const degradedBody = (await degraded.json()) as HealthBody;
    expect(degradedBody.status).toBe('degraded');
    expect(degradedBody.checks.find((check) => check.name === 'long-connection')).toMatchObject({
      ok: false,
      error: 'no answer within 50 ms',
    });
  });

  it('adds the component states to the body, keeps the contract fields, and lets them lower the status', async () => {
    const monitor = new HealthMonitor();
    const seen: string[] = [];
    const app = healthRoutes({
      monitor,
      readiness: createReadiness(),
      store: { ping: async () => {} },
      startedAt: Date.now(),
      components: ({ snapshot, checks }) => {
        seen.push(`${snapshot.status} ${checks.map((check) => `${check.name}:${check.ok}`).join(',')}`);
        return {
          states: {
            agent: { state: 'off', reason: 'no model: MODEL not set' },
            feishu: { ...snapshot.feishu, webhook: 'unsigned', longConnection: { state: 'off', connected: false } },
            store: { kind: 'sqlite', state: 'ok' },
          },
          floors: [{ status: 'unhealthy', reason: 'agent off: nobody is answered' }],
        };
      },
    });
    const response = await app.request('/health');
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(seen).toEqual(['healthy store:true']);
    expect(body).toMatchObject({
      status: 'unhealthy',
      reasons: ['agent off: nobody is answered'],
      agent: { state: 'off', reason: 'no model: MODEL not set' },
      feishu: { connection: 'off', reconnects: 0, webhook: 'unsigned', longConnection: { state: 'off' } },
      store: { kind: 'sqlite', state: 'ok' },
      window: { seconds: 300 },
      errors: { total: 0 },
      lastError: null,
    });
  });
});

describe('healthReport', () => {
  it('builds the body GET /health answers, with checks registered after it was made', async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 12) };
    const monitor = new HealthMonitor({ now: () => clock.now });
    const checks: ReadinessCheck[] = [];
    const options = {
      monitor,
      readiness: createReadiness(),
      store: { ping: async () => {} },
      startedAt: clock.now - 5_000,
      checks,
      instanceId: 'host-b:2',
      now: () => clock.now,
    };
    const report = healthReport(options);
    const app = healthRoutes(options);
    monitor.trackAgentCall('manager', 120, 'success');
    checks.push({ name: 'long-connection', critical: false, check: () => {} });

    const body = await report();
    expect(body).toEqual(await (await app.request('/health')).json());
    expect(body).toMatchObject({ status: 'healthy', uptime: 5, instance: 'host-b:2', phase: 'starting' });
    expect(body.checks.map((check) => check.name)).toEqual(['store', 'long-connection']);
    expect(body.agents.manager?.callCount).toBe(1);
  });
});

describe('GET /health/live', () => {
  it('answers 200 whatever the monitor, readiness or checks say', async () => {
    let checked = 0;
    const { app, monitor, readiness } = setup({
      storeFails: true,
      checks: [{ name: 'counted', check: () => void checked++ }],
    });
    for (let index = 0; index < 10; index++) monitor.trackAgentCall('manager', 1, 'error');
    readiness.markDraining();
    const response = await app.request('/health/live');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'alive', uptime: 12.3 });
    expect(checked).toBe(0);
  });
});

describe('GET /health/ready', () => {
  it('is 503 while starting, 200 when ready, 503 while draining', async () => {
    const { app, readiness } = setup();
    const starting = await app.request('/health/ready');
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({
      status: 'not_ready',
      phase: 'starting',
      reason: 'process is starting',
    });

    readiness.markReady();
    const ready = await app.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      phase: 'ready',
      checks: [{ name: 'store', ok: true }],
    });

    readiness.markDraining();
    const draining = await app.request('/health/ready');
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ phase: 'draining', reason: 'process is draining' });
  });

  it('is 503 naming the check that failed, thrown or rejected or too slow', async () => {
    const { app, readiness } = setup({
      checks: [
        {
          name: 'thrower',
          critical: false,
          check: () => {
            throw new Error('not connected');
          },
        },
        { name: 'rejecter', check: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')) },
        { name: 'sleeper', check: () => new Promise(() => {}) },
        { name: 'fine', check: () => {} },
      ],
    });
    readiness.markReady();
    const response = await app.request('/health/ready');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { reason: string; checks: Array<{ name: string; ok: boolean }> };
    expect(body.reason).toBe(
      'thrower: not connected; rejecter: ECONNREFUSED 127.0.0.1:6379; sleeper: no answer within 50 ms',
    );
    expect(body.checks.map((check) => [check.name, check.ok])).toEqual([
      ['store', true],
      ['thrower', false],
      ['rejecter', false],
      ['sleeper', false],
      ['fine', true],
    ]);
  });

  it('does not care about the monitor status (an outage at the provider is not a reason to stop traffic)', async () => {
    const { app, monitor, readiness } = setup();
    readiness.markReady();
    for (let index = 0; index < 10; index++) monitor.trackAgentCall('manager', 1, 'error');
    expect((await app.request('/health')).status).toBe(503);
    expect((await app.request('/health/ready')).status).toBe(200);
  });
});

/**
 * The health monitor fed by real agent calls: the real @ai-sdk/openai provider over HTTP against
 * the fake OpenAI server, through the model chain and runAgent, whose 'agent.call' events reach
 * the monitor on the bus. The monitor's clock is simulated (one call per second, "normal
 * traffic"), so minutes of window pass in a few seconds of test time.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelChain, type ModelChain } from '../../lib/agents/model-chain.js';
import { runAgent } from '../../lib/agents/run-agent.js';
import { attachHealthMonitor, HealthMonitor } from '../../lib/health/health-monitor.js';
import { healthRoutes } from '../../lib/health/health-routes.js';
import { createEventBus, type EventBus } from '../../lib/observe/event-bus.js';
import { createReadiness } from '../../lib/process/readiness.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

describe('health against the fake OpenAI server', () => {
  let clock: { now: number };
  let bus: EventBus;
  let chain: ModelChain;
  let monitor: HealthMonitor;
  let health: ReturnType<typeof healthRoutes>;
  let calls = 0;

  beforeEach(() => {
    fake.reset();
    clock = { now: Date.UTC(2026, 0, 1, 9) };
    bus = createEventBus();
    monitor = new HealthMonitor({ now: () => clock.now });
    attachHealthMonitor(bus, monitor);
    const provider = createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey });
    // No retries and no breaker: every user message is exactly one model request here.
    chain = createModelChain({
      createModel: (id) => provider.chat(id),
      primary: 'gpt-test',
      maxRetries: 0,
      breakerFailures: 1_000_000,
      bus,
    });
    health = healthRoutes({ monitor, readiness: createReadiness(), startedAt: clock.now, now: () => clock.now });
  });

  /** One user message answered by the manager, then one second passes. */
  async function agentCall(): Promise<'success' | 'error' | 'aborted'> {
    calls++;
    const result = await runAgent({
      agent: 'manager',
      traceId: `trace-${calls}`,
      chain,
      system: 'You are a test bot.',
      messages: [{ role: 'user', content: `message ${calls}` }],
      maxSteps: 1,
      bus,
    });
    clock.now += 1_000;
    return result.outcome;
  }

  const healthStatus = async () => (await health.request('/health')).status;

  it('turns 503 within a few failed calls of an outage, and 200 again once it passes', async () => {
    for (let index = 0; index < 60; index++) expect(await agentCall()).toBe('success');
    expect(await healthStatus()).toBe(200);

    fake.alwaysFail('gpt-test', { status: 503, message: 'The server is overloaded' });
    let failedCalls = 0;
    while ((await healthStatus()) === 200) {
      expect(await agentCall()).toBe('error');
      failedCalls++;
      expect(failedCalls).toBeLessThanOrEqual(10);
    }
    // The window holds 60 successes, yet five failures in a row are enough.
    expect(failedCalls).toBe(5);
    const body = (await (await health.request('/health')).json()) as { reasons: string[]; lastError: unknown };
    expect(body.reasons[0]).toMatch(/last 5 agent calls all failed/);
    expect(body.lastError).toMatchObject({ category: expect.any(String) });

    fake.clearFaults('gpt-test');
    expect(await agentCall()).toBe('success');
    // Hysteresis: one success right after an outage is not a recovery yet.
    expect(await healthStatus()).toBe(503);
    let secondsToRecover = 1;
    while ((await healthStatus()) === 503) {
      expect(await agentCall()).toBe('success');
      secondsToRecover++;
      expect(secondsToRecover).toBeLessThanOrEqual(monitor.windowSeconds + 30);
    }
    expect(await healthStatus()).toBe(200);
  }, 60_000);

  it('never calls 5 % background errors unhealthy', async () => {
    const statuses = new Set<number>();
    for (let index = 1; index <= 200; index++) {
      if (index % 20 === 0) fake.script('gpt-test', { error: { status: 500, message: 'random blip' } });
      const outcome = await agentCall();
      expect(outcome).toBe(index % 20 === 0 ? 'error' : 'success');
      statuses.add(await healthStatus());
    }
    expect(statuses).toEqual(new Set([200]));
    expect(monitor.snapshot()).toMatchObject({ status: 'healthy', calls: { errors: 10 } });
  }, 60_000);

  it('forgets an old burst once it is outside the window', async () => {
    fake.alwaysFail('gpt-test', { status: 500, message: 'burst' });
    for (let index = 0; index < 10; index++) expect(await agentCall()).toBe('error');
    expect(await healthStatus()).toBe(503);
    fake.clearFaults('gpt-test');

    clock.now += monitor.windowSeconds * 1_000;
    const later = monitor.snapshot();
    expect(later.calls.total).toBe(0);
    expect(later.errors.total).toBe(0);
    // A few quiet successes and the recovery dwell later, it is healthy again.
    for (let index = 0; index < 31; index++) await agentCall();
    expect(await healthStatus()).toBe(200);
  }, 60_000);
});

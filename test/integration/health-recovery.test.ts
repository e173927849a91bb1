/**
 * How fast users and /health follow a provider that fails and recovers: the real @ai-sdk/openai
 * provider over HTTP against the fake OpenAI, through the model chain (default retries, breaker
 * and fallback settings) and runAgent, feeding the health monitor on the bus. One simulated
 * clock drives the monitor, the chain's breakers and its pauses (retry back-off, waiting for a
 * probe), so minutes of traffic at one user message a second run in seconds.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelChain, type ModelChain } from '../../lib/agents/model-chain.js';
import { runAgent } from '../../lib/agents/run-agent.js';
import { attachHealthMonitor, HealthMonitor, type StatusChange } from '../../lib/health/health-monitor.js';
import { healthRoutes } from '../../lib/health/health-routes.js';
import { createEventBus, type EventBus } from '../../lib/observe/event-bus.js';
import { createReadiness } from '../../lib/process/readiness.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';

const PRIMARY = 'gpt-test';
const FALLBACK = 'gpt-test-fallback';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

interface Run {
  clock: { now: number };
  bus: EventBus;
  chain: ModelChain;
  monitor: HealthMonitor;
  changes: StatusChange[];
  health: ReturnType<typeof healthRoutes>;
}

function start(windowSeconds: number): Run {
  const clock = { now: Date.UTC(2026, 0, 1, 9) };
  const bus = createEventBus();
  const changes: StatusChange[] = [];
  const monitor = new HealthMonitor({ windowSeconds, now: () => clock.now, onStatusChange: (c) => changes.push(c) });
  attachHealthMonitor(bus, monitor);
  const provider = createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey });
  const chain = createModelChain({
    createModel: (id) => provider.chat(id),
    primary: PRIMARY,
    fallbacks: [FALLBACK],
    bus,
    now: () => clock.now,
    // The chain's pauses pass on the simulated clock.
    sleep: async (ms) => {
      clock.now += ms;
    },
  });
  const health = healthRoutes({ monitor, readiness: createReadiness(), startedAt: clock.now, now: () => clock.now });
  return { clock, bus, chain, monitor, changes, health };
}

let calls = 0;
/** One user message answered by the manager at the current moment; then a second passes. */
async function ask(run: Run): Promise<{ outcome: string; at: number }> {
  calls++;
  const at = run.clock.now;
  const result = await runAgent({
    agent: 'manager',
    traceId: `trace-${calls}`,
    chain: run.chain,
    system: 'You are a test bot.',
    messages: [{ role: 'user', content: `message ${calls}` }],
    maxSteps: 1,
    bus: run.bus,
    now: () => run.clock.now,
  });
  run.clock.now = Math.max(run.clock.now, at + 1_000);
  return { outcome: result.outcome, at };
}

const statusCode = async (run: Run) => (await run.health.request('/health')).status;
const body = async (run: Run) => (await (await run.health.request('/health')).json()) as Record<string, unknown>;

/** Both models fail until `clearFaults`, as in a provider outage. */
function outage() {
  for (const model of [PRIMARY, FALLBACK]) fake.alwaysFail(model, { status: 503, message: 'The server is overloaded' });
}

describe('recovery after a provider outage, 20 s health window', () => {
  beforeEach(() => fake.reset());

  it('answers users within 5 s of the recovery and is 200 again within window + 15 s, without flapping', async () => {
    const run = start(20);
    for (let index = 0; index < 30; index++) expect((await ask(run)).outcome).toBe('success');
    outage();
    let failed = 0;
    while ((await statusCode(run)) === 200) {
      expect((await ask(run)).outcome).toBe('error');
      failed++;
      expect(failed).toBeLessThanOrEqual(10);
    }
    expect(failed).toBe(5);
    // A long outage: the breakers back off to their longest cooldown.
    for (let index = 0; index < 40; index++) expect((await ask(run)).outcome).toBe('error');
    const outageBody = await body(run);
    expect(outageBody.errors).toMatchObject({ byCategory: { CIRCUIT_OPEN: expect.any(Number) } });
    expect((outageBody.errors as { byCategory: { CIRCUIT_OPEN: number } }).byCategory.CIRCUIT_OPEN).toBeGreaterThan(0);
    expect(outageBody.models).toMatchObject({
      [PRIMARY]: { breaker: { state: 'open' }, refused: expect.any(Number) },
      [FALLBACK]: { breaker: { state: 'open' } },
    });

    fake.clearFaults();
    const recoveredAt = run.clock.now;
    let firstAnswerAt: number | undefined;
    let healthyAt: number | undefined;
    const held: string[] = [];
    while (run.clock.now - recoveredAt < 120_000) {
      const { outcome, at } = await ask(run);
      if (outcome === 'success') firstAnswerAt ??= at;
      // Once users are answered again, every later message is answered.
      else expect(firstAnswerAt).toBeUndefined();
      const status = await statusCode(run);
      if (status === 200) healthyAt ??= run.clock.now;
      // No flapping: once 200, it stays 200.
      else expect(healthyAt).toBeUndefined();
      if (status === 503) held.push(...((await body(run)).reasons as string[]));
    }
    expect(firstAnswerAt! - recoveredAt).toBeLessThanOrEqual(5_000);
    expect(healthyAt! - recoveredAt).toBeLessThanOrEqual((20 + 15) * 1_000);
    // While held, the reason says what the hold waits for.
    expect(held).toContainEqual(expect.stringMatching(/^recovering: holding unhealthy until conditions stay clear/));
    // Every status change says why, the recovery's included.
    for (const change of run.changes) expect(change.reasons.length).toBeGreaterThan(0);
    const recovery = run.changes.find((change) => change.from === 'unhealthy');
    expect(recovery?.reasons[0]).toMatch(
      /^recovered: conditions clear by the recovery margin .* for 5 s, the 5 s hold$/,
    );
    expect(run.changes.at(-1)).toMatchObject({ to: 'healthy' });
    const final = await body(run);
    expect(final.models).toMatchObject({ [PRIMARY]: { breaker: { state: 'closed' } } });
  }, 120_000);

  it('never calls 5 % background errors unhealthy', async () => {
    const run = start(20);
    const statuses = new Set<number>();
    for (let index = 1; index <= 200; index++) {
      if (index % 20 === 0) {
        // Both models fail this one message (every retry and the fallback too).
        for (const model of [PRIMARY, FALLBACK]) fake.alwaysFail(model, { status: 500, message: 'blip' }, { times: 3 });
      }
      await ask(run);
      statuses.add(await statusCode(run));
    }
    expect(statuses).toEqual(new Set([200]));
    expect(run.monitor.snapshot().status).not.toBe('unhealthy');
  }, 120_000);

  it('calls 30 % rate-limited requests degraded, never unhealthy, and users are answered', async () => {
    const run = start(20);
    const statuses = new Set<string>();
    for (let index = 1; index <= 200; index++) {
      if (index % 10 < 3) fake.script(PRIMARY, { error: { status: 429, retryAfterMs: 200 } });
      expect((await ask(run)).outcome).toBe('success');
      statuses.add(run.monitor.snapshot().status);
    }
    expect(statuses.has('unhealthy')).toBe(false);
    expect(statuses.has('degraded')).toBe(true);
    expect(run.monitor.snapshot().reasons.join(' ')).toMatch(/rate limits in 20 s/);
  }, 120_000);
});

describe('recovery after a provider outage, default 300 s window', () => {
  beforeEach(() => fake.reset());

  it('is 200 again within the hold + 60 s of successful traffic', async () => {
    const run = start(300);
    for (let index = 0; index < 300; index++) await ask(run);
    outage();
    // An outage long enough to be unhealthy and keep failing a while.
    for (let index = 0; index < 40; index++) expect((await ask(run)).outcome).toBe('error');
    expect(await statusCode(run)).toBe(503);
    fake.clearFaults();
    let firstAnswerAt: number | undefined;
    let healthyAt: number | undefined;
    while (healthyAt === undefined && run.clock.now < Date.UTC(2026, 0, 1, 10)) {
      const { outcome, at } = await ask(run);
      if (outcome === 'success') firstAnswerAt ??= at;
      if (firstAnswerAt !== undefined && (await statusCode(run)) === 200) healthyAt = run.clock.now;
    }
    expect(healthyAt! - firstAnswerAt!).toBeLessThanOrEqual(30_000 + 60_000);
    for (let index = 0; index < 60; index++) {
      await ask(run);
      expect(await statusCode(run)).toBe(200);
    }
  }, 180_000);
});

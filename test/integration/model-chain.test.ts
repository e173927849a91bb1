/**
 * The model chain with the REAL `@ai-sdk/openai` chat provider against the fake OpenAI server
 * over loopback: 429 storms with retry-after, breaker probe back to the primary, hangs, slow
 * first tokens, mid-stream disconnects, and errors about the request that must not fall over.
 */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createModelChainFromConfig } from '../../lib/agents/manager-agent.js';
import type { ModelChain } from '../../lib/agents/model-chain.js';
import { runAgent } from '../../lib/agents/run-agent.js';
import { loadConfig } from '../../lib/config.js';
import { attachHealthMonitor, HealthMonitor } from '../../lib/health/health-monitor.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus, type EventBus } from '../../lib/observe/event-bus.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';

let fake: FakeOpenAI;
let bus: EventBus;
let events: BotEvent[];
let monitor: HealthMonitor;

beforeEach(async () => {
  fake = await startFakeOpenAI();
  bus = createEventBus();
  events = [];
  bus.subscribe((event) => events.push(event));
  monitor = new HealthMonitor();
  attachHealthMonitor(bus, monitor);
});

afterEach(async () => {
  await fake.close();
});

function chainFor(env: Record<string, string> = {}): ModelChain {
  const config = loadConfig({
    NODE_ENV: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_API_KEY: fake.apiKey,
    MODEL: 'gpt-test',
    FALLBACK_MODELS: 'gpt-test-fallback',
    MODEL_FIRST_TOKEN_TIMEOUT_MS: '2000',
    MODEL_TOTAL_TIMEOUT_MS: '10000',
    MODEL_MAX_RETRIES: '2',
    MODEL_MAX_RETRY_DELAY_MS: '1000',
    CIRCUIT_BREAKER_FAILURES: '3',
    CIRCUIT_BREAKER_COOLDOWN_MS: '1500',
    ...env,
  });
  return createModelChainFromConfig(config.model, { bus });
}

function ask(chain: ModelChain, prompt = 'hello', traceId = 'trace') {
  return runAgent({
    agent: 'manager',
    traceId,
    chain,
    system: 'You are a test.',
    messages: [{ role: 'user', content: prompt }],
    maxSteps: 1,
    bus,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('model chain over the real provider', () => {
  it('a 429 storm on the primary is answered by the fallback; calls return to the primary after it', async () => {
    const chain = chainFor();
    fake.alwaysFail('gpt-test', { status: 429, retryAfterSeconds: 0.05 });
    fake.setDefaultResponder((request) => ({ text: `${request.model} says hi` }));

    const first = await ask(chain, 'one', 't1');
    expect(first).toMatchObject({ outcome: 'success', text: 'gpt-test-fallback says hi', model: 'gpt-test-fallback' });
    // 1 try + 2 retries on the primary, each after the 50 ms it asked for.
    const primaryRequests = fake.requestsFor('gpt-test');
    expect(primaryRequests).toHaveLength(3);
    expect((primaryRequests[1]?.at ?? 0) - (primaryRequests[0]?.at ?? 0)).toBeGreaterThanOrEqual(45);
    expect(chain.breakerState('gpt-test')).toBe('open');

    // While open, the primary is not even tried.
    const second = await ask(chain, 'two', 't2');
    expect(second.model).toBe('gpt-test-fallback');
    expect(fake.requestsFor('gpt-test')).toHaveLength(3);

    // The storm ends; after the cooldown one probe goes to the primary and closes the breaker.
    fake.clearFaults('gpt-test');
    await sleep(1_600);
    const third = await ask(chain, 'three', 't3');
    expect(third).toMatchObject({ outcome: 'success', text: 'gpt-test says hi', model: 'gpt-test' });
    expect(chain.breakerState('gpt-test')).toBe('closed');
    expect((await ask(chain, 'four', 't4')).model).toBe('gpt-test');

    const rateLimits = events.filter((event) => event.type === 'model.rate-limit');
    expect(rateLimits).toHaveLength(3);
    expect(rateLimits[0]).toMatchObject({ model: 'gpt-test', retryAfterMs: 50, remaining: 0, traceId: 't1' });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'model.fallback',
        from: 'gpt-test',
        to: 'gpt-test-fallback',
        reason: 'RATE_LIMIT',
      }),
    );
    // The health monitor counted the rate limits, and every user-facing call succeeded.
    const snapshot = monitor.snapshot();
    expect(snapshot.rateLimits.byModel['gpt-test']?.count).toBe(3);
    expect(snapshot.agents.manager).toMatchObject({ callCount: 4, errorCount: 0 });
  });

  it('a retry-after beyond the cap falls over at once instead of waiting', async () => {
    const chain = chainFor();
    fake.alwaysFail('gpt-test', { status: 429, retryAfterSeconds: 30 });
    fake.script('gpt-test-fallback', { text: 'fallback' });
    const startedAt = Date.now();
    const answer = await ask(chain);
    expect(answer.text).toBe('fallback');
    expect(fake.requestsFor('gpt-test')).toHaveLength(1);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('a 500 outage falls over after the retries', async () => {
    const chain = chainFor({ MODEL_MAX_RETRIES: '1' });
    fake.alwaysFail('gpt-test', { status: 500 });
    fake.script('gpt-test-fallback', { text: 'still here' });
    const answer = await ask(chain);
    expect(answer).toMatchObject({ outcome: 'success', text: 'still here' });
    expect(fake.requestsFor('gpt-test')).toHaveLength(2);
  });

  it('a hanging model is cut off at the first-token timeout and the fallback answers', async () => {
    const chain = chainFor({ MODEL_FIRST_TOKEN_TIMEOUT_MS: '300' });
    fake.script('gpt-test', { hang: true });
    fake.script('gpt-test-fallback', { text: 'awake' });
    const answer = await ask(chain);
    expect(answer).toMatchObject({ outcome: 'success', text: 'awake' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'model.fallback', reason: 'TIMEOUT' }));
    // The hung request was abandoned (its socket closed), not left in flight.
    await fake.waitForIdle(2_000);
    expect(fake.inFlight).toBe(0);
  });

  it('every model hanging ends in TIMEOUT with a clear notice', async () => {
    const chain = chainFor({ MODEL_FIRST_TOKEN_TIMEOUT_MS: '200' });
    fake.script('gpt-test', { hang: true });
    fake.script('gpt-test-fallback', { hang: true });
    const answer = await ask(chain);
    expect(answer).toMatchObject({ outcome: 'error', errorCategory: 'TIMEOUT', text: '' });
    expect(answer.notice).toMatch(/took too long/);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent.call', outcome: 'error', errorCategory: 'TIMEOUT' }),
    );
  });

  it('a slow first token within the timeout is fine; beyond it falls over', async () => {
    const chain = chainFor({ MODEL_FIRST_TOKEN_TIMEOUT_MS: '400' });
    fake.script('gpt-test', { text: 'slow but fine', firstTokenDelayMs: 100 });
    expect((await ask(chain)).text).toBe('slow but fine');
    fake.script('gpt-test', { text: 'too slow', firstTokenDelayMs: 2_000 });
    fake.script('gpt-test-fallback', { text: 'fast fallback' });
    expect((await ask(chain)).text).toBe('fast fallback');
  });

  it('a mid-stream disconnect keeps what was said and ends with a notice, without restarting elsewhere', async () => {
    const chain = chainFor();
    fake.script('gpt-test', { text: 'The quick brown fox jumps', chunkSize: 4, disconnectAfterChunks: 2 });
    const updates: string[] = [];
    const answer = await runAgent({
      agent: 'manager',
      traceId: 'mid',
      chain,
      system: 's',
      messages: [{ role: 'user', content: 'tell me' }],
      maxSteps: 1,
      bus,
      onText: (text) => updates.push(text),
    });
    expect(answer.outcome).toBe('error');
    // Two 4-character chunks arrived before the socket was destroyed.
    expect(answer.text).toBe('The quic');
    expect(updates.at(-1)).toBe('The quic');
    expect(answer.errorCategory).toBe('NETWORK');
    expect(fake.requestsFor('gpt-test-fallback')).toHaveLength(0);
  });

  it('an in-stream error before any text falls over invisibly', async () => {
    const chain = chainFor({ MODEL_MAX_RETRIES: '0' });
    fake.script('gpt-test', { error: { status: 500 }, inStream: true });
    fake.script('gpt-test-fallback', { text: 'clean' });
    const answer = await ask(chain);
    expect(answer).toMatchObject({ outcome: 'success', text: 'clean' });
  });

  it('errors about the request do not fall over and do not open the breaker', async () => {
    const chain = chainFor();
    fake.script('gpt-test', { error: { status: 400, code: 'context_length_exceeded' } });
    const tooLong = await ask(chain);
    expect(tooLong).toMatchObject({ outcome: 'error', errorCategory: 'CONTEXT_LENGTH' });
    expect(tooLong.notice).toMatch(/\/reset/);

    fake.script('gpt-test', { error: { status: 400, code: 'content_filter' } });
    expect(await ask(chain)).toMatchObject({ outcome: 'error', errorCategory: 'CONTENT_FILTER' });

    expect(fake.requestsFor('gpt-test-fallback')).toHaveLength(0);
    expect(chain.breakerState('gpt-test')).toBe('closed');
  });

  it('a wrong API key is AUTH: no retries, no fallback', async () => {
    const chain = chainFor({ OPENAI_API_KEY: 'sk-wrong-key-000' });
    const answer = await ask(chain);
    expect(answer).toMatchObject({ outcome: 'error', errorCategory: 'AUTH' });
    expect(fake.requests).toHaveLength(1);
  });

  it('an unreachable provider is NETWORK', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const chain = chainFor({ OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}/v1`, MODEL_MAX_RETRIES: '0' });
    const answer = await ask(chain);
    expect(answer).toMatchObject({ outcome: 'error', errorCategory: 'NETWORK' });
  });
});

import type { LanguageModelV3, LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { streamText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it, vi } from 'vitest';
import { apiCallError, brokenStream, hangingResult, textParts, textResult } from '../../test/support/test-model.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { createModelChain, ModelChainError, type ModelChainOptions } from './model-chain.js';

type DoStream = (options: LanguageModelV3CallOptions) => ReturnType<LanguageModelV3['doStream']>;

function setup(models: Record<string, DoStream>, options: Partial<ModelChainOptions> = {}) {
  const events: BotEvent[] = [];
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  const calls: Record<string, number> = {};
  const sleeps: number[] = [];
  let clock = 1_000_000;
  const [primary, ...fallbacks] = Object.keys(models);
  const chain = createModelChain({
    createModel: (id) =>
      new MockLanguageModelV3({
        modelId: id,
        doStream: async (callOptions) => {
          calls[id] = (calls[id] ?? 0) + 1;
          const run = models[id];
          if (run === undefined) throw new Error(`no model ${id}`);
          return run(callOptions);
        },
      }),
    primary: primary ?? 'none',
    fallbacks,
    maxRetries: 2,
    maxRetryDelayMs: 1_000,
    breakerFailures: 3,
    breakerCooldownMs: 10_000,
    firstTokenTimeoutMs: 5_000,
    totalTimeoutMs: 10_000,
    bus,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { chain, events, calls, sleeps, advance: (ms: number) => (clock += ms) };
}

async function run(chain: ReturnType<typeof setup>['chain'], signal?: AbortSignal) {
  const call = chain.call({ traceId: 'trace-1', agent: 'manager' });
  const result = streamText({ model: call.model, prompt: 'hi', maxRetries: 0, abortSignal: signal, onError: () => {} });
  let text = '';
  let error: unknown;
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') text += part.text;
    if (part.type === 'error') error = part.error;
  }
  return { text, error, servedBy: call.servedBy, attempts: call.attempts };
}

describe('model chain', () => {
  it('falls over to the fallback at once when retry-after exceeds the cap, and reports it', async () => {
    const { chain, events, calls, sleeps } = setup({
      primary: async () => {
        throw apiCallError(429, { responseHeaders: { 'retry-after': '30', 'x-ratelimit-remaining-requests': '0' } });
      },
      fallback: async () => textResult('from the fallback'),
    });
    const outcome = await run(chain);
    expect(outcome.text).toBe('from the fallback');
    expect(outcome.servedBy).toBe('fallback');
    expect(calls).toEqual({ primary: 1, fallback: 1 });
    expect(sleeps).toEqual([]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'model.rate-limit', model: 'primary', retryAfterMs: 30_000, remaining: 0 }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'model.fallback', from: 'primary', to: 'fallback', reason: 'RATE_LIMIT' }),
    );
    // Attempts are not 'error' events: the agent call's outcome is reported once, by the agent.
    expect(events.some((event) => event.type === 'error')).toBe(false);
  });

  it('retries the same model after the retry-after it was given, within the cap', async () => {
    let attempt = 0;
    const { chain, calls, sleeps } = setup({
      primary: async () => {
        attempt += 1;
        if (attempt === 1) throw apiCallError(429, { responseHeaders: { 'retry-after-ms': '250' } });
        if (attempt === 2) throw apiCallError(503);
        return textResult('third time lucky');
      },
      fallback: async () => textResult('unused'),
    });
    const outcome = await run(chain);
    expect(outcome.text).toBe('third time lucky');
    expect(calls).toEqual({ primary: 3 });
    // 250 from retry-after-ms, then exponential backoff 500 * 2^1 for the 503.
    expect(sleeps).toEqual([250, 1000]);
  });

  it('does not fall over on errors about the request', async () => {
    const { chain, calls } = setup({
      primary: async () =>
        Promise.reject(
          apiCallError(400, { data: { error: { code: 'context_length_exceeded', message: 'too long' } } }),
        ),
      fallback: async () => textResult('unused'),
    });
    const outcome = await run(chain);
    expect(calls).toEqual({ primary: 1 });
    expect(ModelChainError.isInstance(outcome.error)).toBe(true);
    expect((outcome.error as ModelChainError).category).toBe('CONTEXT_LENGTH');
    expect(chain.breakerState('primary')).toBe('closed');
  });

  it('opens the primary breaker in a storm, skips it, and returns to it after a successful probe', async () => {
    let primaryDown = true;
    const { chain, calls, advance, events } = setup({
      primary: async () => {
        if (primaryDown) throw apiCallError(429, { responseHeaders: { 'retry-after': '0' } });
        return textResult('primary is back');
      },
      fallback: async () => textResult('fallback answer'),
    });
    expect((await run(chain)).servedBy).toBe('fallback');
    expect(calls.primary).toBe(3);
    expect(chain.breakerState('primary')).toBe('open');

    const second = await run(chain);
    expect(second.servedBy).toBe('fallback');
    expect(calls.primary).toBe(3);
    expect(second.attempts[0]).toMatchObject({ model: 'primary', outcome: 'skipped' });

    primaryDown = false;
    advance(10_000);
    expect(chain.breakerState('primary')).toBe('half-open');
    const third = await run(chain);
    expect(third.text).toBe('primary is back');
    expect(third.servedBy).toBe('primary');
    expect(chain.breakerState('primary')).toBe('closed');
    expect(events.filter((event) => event.type === 'model.rate-limit')).toHaveLength(3);
  });

  it('a failed half-open probe falls over without retrying and re-opens the breaker', async () => {
    const { chain, calls, advance } = setup({
      primary: async () => Promise.reject(apiCallError(500)),
      fallback: async () => textResult('fallback'),
    });
    await run(chain);
    expect(calls.primary).toBe(3);
    advance(10_000);
    const outcome = await run(chain);
    expect(outcome.servedBy).toBe('fallback');
    expect(calls.primary).toBe(4);
    expect(chain.breakerState('primary')).toBe('open');
  });

  it('every model open: the call waits briefly for a cooldown to end, else fails with CIRCUIT_OPEN unsent', async () => {
    let down = true;
    let clock = 0;
    const sleeps: number[] = [];
    const { chain, calls, events } = setup(
      {
        primary: async () => {
          if (down) throw apiCallError(503);
          return textResult('back');
        },
      },
      {
        maxRetries: 0,
        breakerFirstCooldownMs: 1_500,
        breakerCooldownMs: 8_000,
        breakerWaitMs: 2_000,
        now: () => clock,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
        },
      },
    );
    for (let i = 0; i < 3; i++) await run(chain);
    expect(chain.breakerState('primary')).toBe('open');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'model.breaker', model: 'primary', state: 'open', cooldownMs: 1_500 }),
    );
    // The cooldown ends within the wait: the call waits for it and is the probe.
    down = false;
    const probe = await run(chain);
    expect(sleeps).toEqual([1_500]);
    expect(probe.text).toBe('back');
    expect(chain.breakerState('primary')).toBe('closed');

    down = true;
    for (let i = 0; i < 3; i++) await run(chain);
    clock += 1_500;
    await run(chain); // a failed probe: the next cooldown is 3 s, longer than the wait
    sleeps.length = 0;
    const refused = await run(chain);
    expect(sleeps).toEqual([]);
    expect(calls.primary).toBe(8);
    expect((refused.error as ModelChainError).category).toBe('CIRCUIT_OPEN');
    expect((refused.error as ModelChainError).message).toMatch(/circuit breaker is open \(primary: OTHER\)/);
    expect(refused.attempts).toEqual([
      { model: 'primary', outcome: 'skipped', latencyMs: 0, category: 'CIRCUIT_OPEN' },
    ]);
  });

  it('while the half-open probe is out, other calls go to the fallback instead of stampeding', async () => {
    let releaseProbe: (() => void) | undefined;
    let primaryDown = true;
    const { chain, calls, advance } = setup({
      primary: async () => {
        if (primaryDown) throw apiCallError(500);
        await new Promise<void>((resolve) => {
          releaseProbe = resolve;
        });
        return textResult('probe answer');
      },
      fallback: async () => textResult('fallback answer'),
    });
    await run(chain);
    expect(calls.primary).toBe(3);
    primaryDown = false;
    advance(1_000);
    const probe = run(chain);
    await vi.waitFor(() => expect(releaseProbe).toBeDefined());
    const others = await Promise.all([run(chain), run(chain), run(chain)]);
    expect(others.map((outcome) => outcome.servedBy)).toEqual(['fallback', 'fallback', 'fallback']);
    expect(calls.primary).toBe(4);
    releaseProbe?.();
    expect((await probe).servedBy).toBe('primary');
    expect(chain.breakerState('primary')).toBe('closed');
  });

  it('a 429 halves the model concurrency limit and says why; /health reads it from concurrency()', async () => {
    let attempt = 0;
    const { chain, events } = setup(
      {
        primary: async () => {
          attempt += 1;
          if (attempt === 1) throw apiCallError(429, { responseHeaders: { 'retry-after-ms': '10' } });
          return textResult('after the limit');
        },
      },
      { initialConcurrency: 8, maxConcurrency: 20 },
    );
    expect(chain.concurrency()).toMatchObject({
      limit: 8,
      ceiling: 20,
      byModel: { primary: { limit: 8, inFlight: 0 } },
    });
    expect((await run(chain)).text).toBe('after the limit');
    expect(events).toContainEqual({
      type: 'model.concurrency',
      model: 'primary',
      limit: 4,
      previous: 8,
      reason: 'cut to 4: the provider rate-limited a request (429)',
      at: expect.any(Number),
    });
    expect(chain.concurrency().byModel.primary).toMatchObject({
      limit: 4,
      inFlight: 0,
      reason: expect.stringMatching(/^cut to 4/),
    });
  });

  it('grows the limit as soon as a response starts, before the first token (slow start)', async () => {
    const release: Array<() => void> = [];
    let started: ((signal: AbortSignal | undefined) => void) | undefined;
    const { chain } = setup(
      {
        primary: async (options) => {
          started?.(options.abortSignal);
          await new Promise<void>((resolve) => release.push(resolve));
          return textResult('answer');
        },
      },
      { initialConcurrency: 2 },
    );
    started = (signal) => chain.responseStarted(signal, 200, () => undefined);
    const runs = [run(chain), run(chain)];
    await vi.waitFor(() => expect(release).toHaveLength(2));
    expect(chain.concurrency().byModel.primary).toMatchObject({ limit: 4, inFlight: 2 });
    // A response saying no requests remain does not grow it.
    started = (signal) =>
      chain.responseStarted(signal, 200, (name) => (name === 'x-ratelimit-remaining-requests' ? '0' : undefined));
    const third = run(chain);
    await vi.waitFor(() => expect(release).toHaveLength(3));
    expect(chain.concurrency().byModel.primary?.limit).toBe(4);
    for (const resolve of release) resolve();
    await Promise.all([...runs, third]);
    expect(chain.concurrency().byModel.primary).toMatchObject({
      limit: 2,
      inFlight: 0,
      reason: expect.stringMatching(/^cut to 2/),
    });
  });

  it('a model at its limit: the request waits for a permit, then the next model with room serves', async () => {
    const release: Array<() => void> = [];
    const { chain } = setup(
      {
        primary: async () => {
          await new Promise<void>((resolve) => release.push(resolve));
          return textResult('primary');
        },
        fallback: async () => textResult('fallback'),
      },
      { initialConcurrency: 1, limitWaitMs: 50 },
    );
    const first = run(chain);
    await vi.waitFor(() => expect(release).toHaveLength(1));
    // The primary's one slot is taken for longer than the wait: the fallback serves.
    expect((await run(chain)).servedBy).toBe('fallback');
    release[0]!();
    expect((await first).servedBy).toBe('primary');
    expect(chain.concurrency().byModel.primary).toMatchObject({ inFlight: 0 });
  });

  it('cuts off a model that sends no first token and falls over', async () => {
    const { chain, calls, events } = setup(
      {
        primary: async (options) => hangingResult(options.abortSignal),
        fallback: async () => textResult('quick answer'),
      },
      { firstTokenTimeoutMs: 30, totalTimeoutMs: 5_000 },
    );
    const outcome = await run(chain);
    expect(outcome.text).toBe('quick answer');
    expect(calls).toEqual({ primary: 1, fallback: 1 });
    expect(events).toContainEqual(expect.objectContaining({ type: 'model.fallback', reason: 'TIMEOUT' }));
  });

  it('falls over invisibly when the stream breaks before any text', async () => {
    const reset = new TypeError('terminated', {
      cause: Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const { chain } = setup({
      primary: async () => brokenStream([{ type: 'stream-start', warnings: [] }], reset),
      fallback: async () => textResult('clean answer'),
    });
    const outcome = await run(chain);
    expect(outcome.text).toBe('clean answer');
    expect(outcome.error).toBeUndefined();
  });

  it('after the first text it does not restart elsewhere: it ends with a partial error', async () => {
    const reset = new TypeError('terminated', { cause: Object.assign(new Error('closed'), { code: 'ECONNRESET' }) });
    const { chain, calls } = setup({
      primary: async () => brokenStream(textParts('Hello world, this is', { chunks: 2 }).slice(0, 3), reset),
      fallback: async () => textResult('unused'),
    });
    const outcome = await run(chain);
    expect(outcome.text).toBe('Hello worl');
    expect(calls).toEqual({ primary: 1 });
    expect(ModelChainError.isInstance(outcome.error)).toBe(true);
    expect(outcome.error).toMatchObject({ category: 'NETWORK', partial: true, model: 'primary' });
  });

  it('the total timeout cuts a stream that stalls after its first token', async () => {
    const { chain } = setup(
      {
        primary: async (options) => {
          const stream = new ReadableStream({
            start(controller) {
              for (const part of textParts('partial ', { chunks: 1 }).slice(0, 3)) controller.enqueue(part);
              options.abortSignal?.addEventListener('abort', () => controller.error(options.abortSignal?.reason));
            },
          });
          return { stream };
        },
      },
      { firstTokenTimeoutMs: 1_000, totalTimeoutMs: 40 },
    );
    const outcome = await run(chain);
    expect(outcome.text).toBe('partial ');
    expect(outcome.error).toMatchObject({ category: 'TIMEOUT', partial: true });
  });

  it('a caller abort stops at once without falling over', async () => {
    const controller = new AbortController();
    const { chain, calls } = setup({
      primary: async (options) => {
        setTimeout(() => controller.abort('shutdown'), 5);
        return hangingResult(options.abortSignal);
      },
      fallback: async () => textResult('unused'),
    });
    await run(chain, controller.signal);
    expect(calls).toEqual({ primary: 1 });
    expect(chain.breakerState('primary')).toBe('closed');
  });

  it('reports every model failing with the last category', async () => {
    const { chain } = setup(
      {
        primary: async () => Promise.reject(apiCallError(503)),
        fallback: async () => Promise.reject(apiCallError(429, { responseHeaders: { 'retry-after': '60' } })),
      },
      { maxRetries: 0 },
    );
    const outcome = await run(chain);
    expect(outcome.error).toMatchObject({ category: 'RATE_LIMIT', partial: false });
    expect((outcome.error as ModelChainError).userMessage).toMatch(/rate-limiting/);
  });

  it('a preferred model is tried first, then the chain', async () => {
    const { chain, calls } = setup({
      primary: async () => textResult('primary'),
      special: async () => Promise.reject(apiCallError(404)),
    });
    const call = chain.call({ agent: 'writer', preferredModel: 'special' });
    const result = streamText({ model: call.model, prompt: 'x', maxRetries: 0 });
    expect(await result.text).toBe('primary');
    expect(calls).toEqual({ special: 1, primary: 1 });
  });
});

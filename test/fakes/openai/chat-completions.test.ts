/**
 * The REAL `@ai-sdk/openai` chat provider (Chat Completions) against the fake over a loopback
 * socket. Besides proving the fake speaks the wire format, these tests pin down how `ai` 6 +
 * `@ai-sdk/openai` 3 behave on retries, retry headers, aborts and broken streams, because the
 * model chain relies on exactly that. A test failing after an SDK upgrade means that behaviour
 * changed: update docs/testing.md and the model chain together.
 */
import { createOpenAI } from '@ai-sdk/openai';
import {
  APICallError,
  generateText,
  NoOutputGeneratedError,
  RetryError,
  stepCountIs,
  streamText,
  ToolLoopAgent,
  tool,
} from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FakeOpenAI, type FakeRecordedRequest, startFakeOpenAI } from '../fake-openai.js';

let fake: FakeOpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI();
});

afterEach(async () => {
  await fake.close();
});

const provider = (apiKey = fake.apiKey) => createOpenAI({ baseURL: fake.baseURL, apiKey });
const chatModel = (modelId = 'gpt-test') => provider().chat(modelId);

/** Collects fullStream part types; a rejected iteration is recorded as a final `threw` entry. */
async function collectParts(stream: AsyncIterable<{ type: string }>) {
  const parts: Array<{ type: string; [key: string]: unknown }> = [];
  let thrown: unknown;
  try {
    for await (const part of stream) parts.push(part);
  } catch (error) {
    thrown = error;
  }
  return { parts, types: parts.map((part) => part.type), thrown };
}

/**
 * libuv timers may fire a millisecond or so early measured by Date.now(), so lower bounds on
 * delays get this much slack; it is far below every delay asserted.
 */
const TIMER_SLACK_MS = 5;

function secondRequestDelay(requests: readonly FakeRecordedRequest[]): number {
  const [first, second] = requests;
  if (first === undefined || second === undefined) throw new Error(`expected 2 requests, saw ${requests.length}`);
  return second.at - first.at;
}

describe('fake OpenAI with the real provider: text', () => {
  it('generateText returns the scripted text and usage from the JSON response', async () => {
    fake.script('gpt-test', { text: 'Hello from the fake', usage: { prompt_tokens: 11, completion_tokens: 5 } });

    const result = await generateText({ model: chatModel(), prompt: 'hi' });

    expect(result.text).toBe('Hello from the fake');
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBe(11);
    expect(result.usage.outputTokens).toBe(5);
    expect(result.usage.totalTokens).toBe(16);
    const [request] = fake.requestsFor('gpt-test');
    expect(request?.stream).toBe(false);
    expect(request?.status).toBe(200);
    expect(request?.outcome).toBe('ok');
    expect(request?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(request?.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('streamText delivers the chunks in order and usage (from the include_usage chunk) at the end', async () => {
    fake.script('gpt-test', {
      text: 'one two three four',
      chunkSize: 4,
      chunkDelayMs: 5,
      usage: { prompt_tokens: 7, completion_tokens: 4 },
    });

    const result = streamText({ model: chatModel(), prompt: 'count' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas).toEqual(['one ', 'two ', 'thre', 'e fo', 'ur']);
    expect(await result.text).toBe('one two three four');
    const usage = await result.usage;
    expect(usage.inputTokens).toBe(7);
    expect(usage.outputTokens).toBe(4);
    expect(await result.finishReason).toBe('stop');
    const [request] = fake.requestsFor('gpt-test');
    expect(request?.stream).toBe(true);
    expect(request?.body?.stream_options).toEqual({ include_usage: true });
  });

  it('splits on characters, not UTF-16 units, so Chinese text and emoji survive chunking', async () => {
    fake.script('gpt-test', { text: '你好😀世界', chunkSize: 1 });
    const result = streamText({ model: chatModel(), prompt: '问候' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas).toEqual(['你', '好', '😀', '世', '界']);
  });

  it('without a script, echoes the last user message (default responder) with estimated usage', async () => {
    const result = await generateText({
      model: chatModel(),
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second question' },
      ],
    });
    expect(result.text).toBe('echo: second question');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('maps finish reasons length and content_filter', async () => {
    fake.script('gpt-test', { text: 'cut', finishReason: 'length' }, { text: '', finishReason: 'content_filter' });

    const cut = streamText({ model: chatModel(), prompt: 'a' });
    await cut.consumeStream();
    expect(await cut.finishReason).toBe('length');

    const filtered = await generateText({ model: chatModel(), prompt: 'b' });
    expect(filtered.finishReason).toBe('content-filter');
  });

  it('slow first token: the text arrives after firstTokenDelayMs, and timeout.chunkMs does NOT cover the first token', async () => {
    // The provider's doStream only resolves once the first output chunk arrives (it peeks for an
    // early error frame), and streamText arms the chunk timer after doStream: so chunkMs guards
    // gaps between chunks, never the wait for the first one. A first-token timeout must be the
    // caller's own timer (or timeout.stepMs / totalMs).
    fake.script('gpt-test', { text: 'late answer', firstTokenDelayMs: 400 });
    const started = performance.now();
    let firstDeltaAt: number | undefined;
    const result = streamText({ model: chatModel(), prompt: 'slow', timeout: { chunkMs: 100 } });
    for await (const delta of result.textStream) {
      if (delta.length > 0 && firstDeltaAt === undefined) firstDeltaAt = performance.now();
    }
    expect(await result.text).toBe('late answer');
    expect(firstDeltaAt).toBeDefined();
    expect((firstDeltaAt ?? 0) - started).toBeGreaterThanOrEqual(400 - TIMER_SLACK_MS);
  });

  it('a stall between chunks is cut by timeout.chunkMs: the stream ends with an abort part, text rejects', async () => {
    fake.script('gpt-test', { text: 'abcdefgh', chunkSize: 2, stallAfterChunks: 1 });
    const result = streamText({ model: chatModel(), prompt: 'stall', timeout: { chunkMs: 150 }, onError: () => {} });
    const { types, thrown } = await collectParts(result.fullStream);
    expect(thrown).toBeUndefined();
    expect(types).toContain('text-delta');
    expect(types.at(-1)).toBe('abort');
    await expect(result.text).rejects.toThrow();
    await fake.waitForIdle(2_000);
    expect(fake.requests[0]?.outcome).toBe('stalled');
  });
});

describe('fake OpenAI with the real provider: tools', () => {
  const weather = tool({
    description: 'Current weather for a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, temperatureC: 21, sky: 'clear' }),
  });

  it('streams a tool call (arguments split across deltas), runs the tool, and answers with the result', async () => {
    fake.script(
      'gpt-test',
      { toolCalls: [{ name: 'weather', arguments: { city: 'Hangzhou' }, id: 'call_weather_1' }], chunkSize: 5 },
      (request) => {
        const toolMessage = request.messages.find((message) => message.role === 'tool');
        const result = JSON.parse(String(toolMessage?.content)) as { sky: string; temperatureC: number };
        return { text: `It is ${result.sky} and ${result.temperatureC} °C.` };
      },
    );

    const result = streamText({
      model: chatModel(),
      tools: { weather },
      stopWhen: stepCountIs(3),
      prompt: 'Weather in Hangzhou?',
    });
    const { parts, thrown } = await collectParts(result.fullStream);

    expect(thrown).toBeUndefined();
    expect(parts.filter((part) => part.type === 'tool-input-delta').length).toBeGreaterThan(1);
    const toolCall = parts.find((part) => part.type === 'tool-call');
    expect(toolCall).toMatchObject({ toolName: 'weather', toolCallId: 'call_weather_1', input: { city: 'Hangzhou' } });
    expect(parts.find((part) => part.type === 'tool-result')).toMatchObject({
      output: { city: 'Hangzhou', temperatureC: 21, sky: 'clear' },
    });
    expect(await result.text).toBe('It is clear and 21 °C.');
    expect((await result.steps).map((step) => step.finishReason)).toEqual(['tool-calls', 'stop']);

    const [first, second] = fake.requestsFor('gpt-test');
    expect(first?.tools).toEqual([
      expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'weather' }) }),
    ]);
    expect(second?.messages).toEqual([
      { role: 'user', content: 'Weather in Hangzhou?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_weather_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Hangzhou"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_weather_1', content: '{"city":"Hangzhou","temperatureC":21,"sky":"clear"}' },
    ]);
  });

  it('ToolLoopAgent.generate runs the same round trip over the JSON endpoint', async () => {
    fake.script('gpt-test', { toolCalls: [{ name: 'weather', arguments: '{"city":"Beijing"}' }] }, (request) => ({
      text: `tool said: ${String(request.messages.at(-1)?.content)}`,
    }));
    const agent = new ToolLoopAgent({
      model: chatModel(),
      instructions: 'You are a weather bot.',
      tools: { weather },
      stopWhen: stepCountIs(3),
    });

    const result = await agent.generate({ prompt: 'Weather in Beijing?' });

    expect(result.text).toBe('tool said: {"city":"Beijing","temperatureC":21,"sky":"clear"}');
    expect(fake.requestsFor('gpt-test').map((request) => request.stream)).toEqual([false, false]);
    expect(fake.requestsFor('gpt-test')[0]?.messages[0]).toEqual({ role: 'system', content: 'You are a weather bot.' });
  });
});

describe('fake OpenAI with the real provider: retries (ai maxRetries, retry headers)', () => {
  it('429 with retry-after is retried and succeeds; the retry waits at least retry-after', async () => {
    fake.script('gpt-test', { error: { status: 429, retryAfterSeconds: 0.3 } }, { text: 'after the storm' });

    const result = await generateText({ model: chatModel(), prompt: 'x', maxRetries: 2 });

    expect(result.text).toBe('after the storm');
    const requests = fake.requestsFor('gpt-test');
    expect(requests.map((request) => request.status)).toEqual([429, 200]);
    expect(secondRequestDelay(requests)).toBeGreaterThanOrEqual(300 - TIMER_SLACK_MS);
  });

  it('retry-after-ms takes precedence over retry-after', async () => {
    fake.script('gpt-test', { error: { status: 429, retryAfterSeconds: 30, retryAfterMs: 50 } }, { text: 'fast' });
    const result = await generateText({ model: chatModel(), prompt: 'x' });
    expect(result.text).toBe('fast');
    const delay = secondRequestDelay(fake.requestsFor('gpt-test'));
    expect(delay).toBeGreaterThanOrEqual(50 - TIMER_SLACK_MS);
    expect(delay).toBeLessThan(30_000);
  });

  it('500 without retry headers is retried after the default 2 s exponential backoff, then succeeds', async () => {
    fake.script('gpt-test', { error: { status: 500 } }, { text: 'recovered' });
    const result = await generateText({ model: chatModel(), prompt: 'x' });
    expect(result.text).toBe('recovered');
    expect(secondRequestDelay(fake.requestsFor('gpt-test'))).toBeGreaterThanOrEqual(2_000 - TIMER_SLACK_MS);
  });

  it('a retry-after of 60 s or more is ignored: the SDK falls back to its 2 s backoff', async () => {
    fake.script('gpt-test', { error: { status: 429, retryAfterSeconds: 120 } }, { text: 'ok' });
    await generateText({ model: chatModel(), prompt: 'x' });
    const delay = secondRequestDelay(fake.requestsFor('gpt-test'));
    expect(delay).toBeGreaterThanOrEqual(2_000 - TIMER_SLACK_MS);
    expect(delay).toBeLessThan(60_000);
  });

  it('a 429 storm exhausts maxRetries: RetryError(maxRetriesExceeded) whose lastError is the 429 APICallError', async () => {
    fake.alwaysFail('gpt-test', { status: 429, retryAfterMs: 10 });

    const error = await generateText({ model: chatModel(), prompt: 'x', maxRetries: 2 }).catch((caught) => caught);

    expect(RetryError.isInstance(error)).toBe(true);
    if (!RetryError.isInstance(error)) return;
    expect(error.reason).toBe('maxRetriesExceeded');
    expect(error.errors).toHaveLength(3);
    expect(APICallError.isInstance(error.lastError) && error.lastError.statusCode).toBe(429);
    expect(fake.requestsFor('gpt-test')).toHaveLength(3);
  });

  it('streamText reports a retry-exhausting storm as an error part (no throw), then text rejects with NoOutputGeneratedError', async () => {
    fake.alwaysFail('gpt-test', { status: 503, retryAfterMs: 10 });
    const errors: unknown[] = [];
    const result = streamText({
      model: chatModel(),
      prompt: 'x',
      maxRetries: 1,
      onError: ({ error }) => {
        errors.push(error);
      },
    });

    const { parts, types, thrown } = await collectParts(result.fullStream);

    expect(thrown).toBeUndefined();
    expect(types).toEqual(['start', 'error']);
    const errorPart = parts[1]?.error;
    expect(RetryError.isInstance(errorPart) && errorPart.reason).toBe('maxRetriesExceeded');
    expect(errors).toHaveLength(1);
    const textError = await Promise.resolve(result.text).catch((caught: unknown) => caught);
    expect(NoOutputGeneratedError.isInstance(textError)).toBe(true);
  });

  it('alwaysFail with { times } fails only that many requests, then the script answers', async () => {
    fake.alwaysFail('gpt-test', { status: 503, retryAfterMs: 5 }, { times: 2 });
    fake.script('gpt-test', { text: 'third time lucky' });
    const result = await generateText({ model: chatModel(), prompt: 'x', maxRetries: 2 });
    expect(result.text).toBe('third time lucky');
    expect(fake.requestsFor('gpt-test').map((request) => request.status)).toEqual([503, 503, 200]);
  });

  it('alwaysFail with { until } stops failing at that moment; clearFaults stops it at once', async () => {
    fake.alwaysFail('gpt-test', { status: 429 }, { until: Date.now() + 60_000 });
    await expect(generateText({ model: chatModel(), prompt: 'x', maxRetries: 0 })).rejects.toSatisfy(
      (error) => APICallError.isInstance(error) && error.statusCode === 429,
    );
    fake.clearFaults('gpt-test');
    expect((await generateText({ model: chatModel(), prompt: 'x', maxRetries: 0 })).text).toBe('echo: x');

    fake.alwaysFail('gpt-test', { status: 429 }, { until: new Date(Date.now() - 1) });
    expect((await generateText({ model: chatModel(), prompt: 'y', maxRetries: 0 })).text).toBe('echo: y');
  });

  it('a non-retryable error after a retry becomes RetryError(errorNotRetryable)', async () => {
    fake.script(
      'gpt-test',
      { error: { status: 503, retryAfterMs: 5 } },
      { error: { status: 400, code: 'context_length_exceeded' } },
    );
    const error = await generateText({ model: chatModel(), prompt: 'x' }).catch((caught) => caught);
    expect(RetryError.isInstance(error) && error.reason).toBe('errorNotRetryable');
  });
});

describe('fake OpenAI with the real provider: errors that are not retried', () => {
  it('a wrong API key answers 401: APICallError with statusCode 401, not retried', async () => {
    const error = await generateText({ model: provider('sk-wrong').chat('gpt-test'), prompt: 'x' }).catch(
      (caught) => caught,
    );
    expect(APICallError.isInstance(error)).toBe(true);
    if (!APICallError.isInstance(error)) return;
    expect(error.statusCode).toBe(401);
    expect(error.isRetryable).toBe(false);
    expect(error.data).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(fake.requests).toHaveLength(1);
  });

  it('a scripted 401 in streamText arrives as an error part carrying the APICallError', async () => {
    fake.script('gpt-test', { error: { status: 401 } });
    const result = streamText({ model: chatModel(), prompt: 'x', onError: () => {} });
    const { parts } = await collectParts(result.fullStream);
    const errorPart = parts.find((part) => part.type === 'error')?.error;
    expect(APICallError.isInstance(errorPart) && errorPart.statusCode).toBe(401);
  });

  it('context length exceeded: 400 APICallError whose data carries code context_length_exceeded, not retried', async () => {
    fake.script('gpt-test', { error: { status: 400, code: 'context_length_exceeded' } });
    const error = await generateText({ model: chatModel(), prompt: 'a very long prompt' }).catch((caught) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    if (!APICallError.isInstance(error)) return;
    expect(error.statusCode).toBe(400);
    expect(error.isRetryable).toBe(false);
    expect(error.data).toEqual({
      error: expect.objectContaining({ code: 'context_length_exceeded', param: 'messages' }),
    });
    expect(error.message).toContain('maximum context length');
    expect(fake.requests).toHaveLength(1);
  });

  it('a content-filter 400 carries code content_filter', async () => {
    fake.script('gpt-test', { error: { status: 400, code: 'content_filter' } });
    const error = await generateText({ model: chatModel(), prompt: 'x' }).catch((caught) => caught);
    expect(APICallError.isInstance(error) && error.data).toMatchObject({ error: { code: 'content_filter' } });
  });

  it('an unknown model answers 404 model_not_found', async () => {
    const error = await generateText({ model: chatModel('no-such-model'), prompt: 'x' }).catch((caught) => caught);
    expect(APICallError.isInstance(error) && error.statusCode).toBe(404);
    expect(APICallError.isInstance(error) && error.data).toMatchObject({ error: { code: 'model_not_found' } });
  });
});

describe('fake OpenAI with the real provider: aborts, hangs, broken streams', () => {
  // 1.5 s, not less: under a loaded CI machine a shorter timeout fired before the request reached the fake.
  it('hang + AbortSignal.timeout(1500): generateText rejects promptly with TimeoutError and the fake ends its work', async () => {
    fake.script('gpt-test', { hang: true });
    const started = performance.now();

    const error = await generateText({
      model: chatModel(),
      prompt: 'x',
      abortSignal: AbortSignal.timeout(1_500),
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TimeoutError'); // the signal's reason, thrown as is (not an APICallError)
    expect(performance.now() - started).toBeLessThan(5_000);
    await fake.waitForIdle(2_000);
    expect(fake.inFlight).toBe(0);
    expect(fake.requests[0]).toMatchObject({ outcome: 'hang', status: undefined });
    expect(fake.requests[0]?.endedAt).toBeDefined();
    expect(fake.requests).toHaveLength(1); // aborts are never retried
  });

  it('hang + abort in streamText: fullStream ends with an abort part (no error part), onAbort fires, text rejects', async () => {
    fake.script('gpt-test', { hang: true });
    let aborted = false;
    const result = streamText({
      model: chatModel(),
      prompt: 'x',
      abortSignal: AbortSignal.timeout(200),
      onAbort: () => {
        aborted = true;
      },
    });
    const { types, thrown } = await collectParts(result.fullStream);
    expect(thrown).toBeUndefined();
    expect(types).toEqual(['start', 'abort']);
    expect(aborted).toBe(true);
    await expect(result.text).rejects.toMatchObject({ name: 'TimeoutError' });
    await fake.waitForIdle(2_000);
  });

  it('controller.abort() mid-stream: generateText rejects with AbortError; the fake sees the client go away', async () => {
    fake.script('gpt-test', { text: 'abcdefgh', chunkSize: 2, stallAfterChunks: 1 });
    const controller = new AbortController();
    const pending = generateText({ model: chatModel(), prompt: 'x', abortSignal: controller.signal }).catch(
      (caught: unknown) => caught,
    );
    await fake.waitForRequests(1);
    controller.abort();
    expect(((await pending) as Error).name).toBe('AbortError');
    await fake.waitForIdle(2_000);
    expect(fake.requests[0]?.endedAt).toBeDefined();
  });

  it('an abort during the retry wait rejects at once with AbortError instead of waiting out retry-after', async () => {
    fake.script('gpt-test', { error: { status: 429, retryAfterSeconds: 30 } });
    const started = performance.now();
    const error = await generateText({
      model: chatModel(),
      prompt: 'x',
      abortSignal: AbortSignal.timeout(1_500),
    }).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('AbortError');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(fake.requests).toHaveLength(1);
  });

  it('mid-stream disconnect: iterating fullStream THROWS an APICallError (status 200, retryable, cause "terminated"); no error part, onError not called', async () => {
    fake.script('gpt-test', { text: 'abcdefgh', chunkSize: 2, disconnectAfterChunks: 2 });
    const errors: unknown[] = [];
    const result = streamText({
      model: chatModel(),
      prompt: 'x',
      onError: ({ error }) => {
        errors.push(error);
      },
    });

    const { parts, types, thrown } = await collectParts(result.fullStream);

    expect(parts.filter((part) => part.type === 'text-delta').map((part) => part.text)).toEqual(['ab', 'cd']);
    expect(types).not.toContain('error');
    expect(types).not.toContain('finish');
    expect(APICallError.isInstance(thrown)).toBe(true);
    if (!APICallError.isInstance(thrown)) return;
    expect(thrown.statusCode).toBe(200);
    expect(thrown.isRetryable).toBe(true);
    expect(thrown.message).toBe('Failed to process successful response');
    expect(String((thrown.cause as Error | undefined)?.message)).toBe('terminated');
    expect(errors).toEqual([]);
    await expect(result.text).rejects.toBe(thrown);
    expect(fake.requests).toHaveLength(1); // output had started: the SDK does not retry
    expect(fake.requests[0]?.outcome).toBe('disconnected');
  });

  it('mid-stream disconnect: textStream throws the same way', async () => {
    fake.script('gpt-test', { text: 'abcdefgh', chunkSize: 2, disconnectAfterChunks: 1 });
    const result = streamText({ model: chatModel(), prompt: 'x' });
    const deltas: string[] = [];
    const thrown = await (async () => {
      for await (const delta of result.textStream) deltas.push(delta);
    })().catch((caught: unknown) => caught);
    expect(deltas).toEqual(['ab']);
    expect(APICallError.isInstance(thrown)).toBe(true);
  });

  it('a disconnect before the first token is retried transparently by the SDK (doStream has not resolved yet)', async () => {
    fake.script('gpt-test', { text: 'lost', disconnectAfterChunks: 0 }, { text: 'second try' });
    const result = streamText({ model: chatModel(), prompt: 'x' });
    expect(await result.text).toBe('second try');
    expect(fake.requests.map((request) => request.outcome)).toEqual(['disconnected', 'ok']);
  });

  it('a JSON (generateText) disconnect is a connection error: retried, then succeeds', async () => {
    fake.script('gpt-test', { text: 'lost', disconnectAfterChunks: 0 }, { text: 'second try' });
    const result = await generateText({ model: chatModel(), prompt: 'x' });
    expect(result.text).toBe('second try');
    expect(fake.requests).toHaveLength(2);
  });

  it('an in-stream error frame before any output is retried; after output it is an error part and finishReason "error"', async () => {
    fake.script(
      'gpt-test',
      { error: { status: 429, code: 'rate_limit_exceeded' }, inStream: true },
      { text: 'retried fine' },
    );
    expect(await streamText({ model: chatModel(), prompt: 'x' }).text).toBe('retried fine');
    expect(fake.requests).toHaveLength(2);

    fake.script('gpt-test', { error: { status: 500, message: 'stream broke' }, inStream: true, textBefore: 'partial' });
    const result = streamText({ model: chatModel(), prompt: 'y', onError: () => {} });
    const { parts, thrown } = await collectParts(result.fullStream);
    expect(thrown).toBeUndefined();
    // The error part carries the raw OpenAI error object, not an APICallError.
    expect(parts.find((part) => part.type === 'error')?.error).toMatchObject({ message: 'stream broke' });
    expect(await result.text).toBe('partial');
    expect(await result.finishReason).toBe('error');
  });

  it('close() ends hanging and stalled streams: clients fail fast (connection errors) and close resolves', async () => {
    // Separate models: concurrent requests would otherwise race for one queue.
    fake.script('gpt-test', { hang: true });
    fake.script('gpt-test-mini', { text: 'abcdefgh', chunkSize: 2, stallAfterChunks: 1 });
    const hanging = generateText({ model: chatModel('gpt-test'), prompt: 'hang', maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
    const stalled = streamText({
      model: chatModel('gpt-test-mini'),
      prompt: 'stall',
      maxRetries: 0,
      onError: () => {},
    });
    const stalledParts = collectParts(stalled.fullStream);
    await fake.waitForRequests(1, { model: 'gpt-test' });
    await fake.waitForRequests(1, { model: 'gpt-test-mini' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the first chunk of the stalled stream arrive

    const started = performance.now();
    await fake.close();

    expect(performance.now() - started).toBeLessThan(2_000);
    // No response yet: a connection error ('Cannot connect to API: other side closed'), retryable.
    const hangError = await hanging;
    expect(APICallError.isInstance(hangError) && hangError.isRetryable).toBe(true);
    // Output had started: the iteration throws, as with a mid-stream disconnect.
    const { types, thrown } = await stalledParts;
    expect(types).toContain('text-delta');
    expect(APICallError.isInstance(thrown)).toBe(true);
    expect(fake.inFlight).toBe(0);
    expect(fake.requestsFor('gpt-test')[0]?.outcome).toBe('hang');
    expect(fake.requestsFor('gpt-test-mini')[0]?.outcome).toBe('stalled');
    await fake.close(); // idempotent: afterEach closes again
  });
});

describe('fake OpenAI: scripting, recording, rate-limit headers', () => {
  it("queues per model first, then '*', then the default responder; a function step sees the request", async () => {
    fake.script('*', { text: 'shared' });
    fake.script('gpt-test-mini', { text: 'mini only' });
    fake.script('gpt-test', (request) => ({ text: `saw ${request.lastUserText} via ${request.model}` }));

    expect((await generateText({ model: chatModel('gpt-test-mini'), prompt: 'a' })).text).toBe('mini only');
    expect((await generateText({ model: chatModel('gpt-test'), prompt: 'b' })).text).toBe('saw b via gpt-test');
    expect((await generateText({ model: chatModel('gpt-test'), prompt: 'c' })).text).toBe('shared');
    expect((await generateText({ model: chatModel('gpt-test'), prompt: 'd' })).text).toBe('echo: d');
    expect(fake.pending('*')).toBe(0);
  });

  it('script() registers unknown models; setDefaultResponder replaces the echo', async () => {
    fake.script('deepseek-chat', { text: 'from a new model' });
    fake.setDefaultResponder(() => ({ text: 'default' }));
    expect((await generateText({ model: chatModel('deepseek-chat'), prompt: 'x' })).text).toBe('from a new model');
    expect((await generateText({ model: chatModel('deepseek-chat'), prompt: 'x' })).text).toBe('default');
  });

  it("alwaysFail('*') fails every model; a throwing step function answers 500 with its message", async () => {
    fake.alwaysFail('*', { status: 503 });
    for (const modelId of ['gpt-test', 'gpt-test-fallback']) {
      const error = await generateText({ model: chatModel(modelId), prompt: 'x', maxRetries: 0 }).catch(
        (caught) => caught,
      );
      expect(APICallError.isInstance(error) && error.statusCode).toBe(503);
    }
    fake.clearFaults();

    fake.script('gpt-test', () => {
      throw new Error('script bug');
    });
    const error = await generateText({ model: chatModel(), prompt: 'x', maxRetries: 0 }).catch((caught) => caught);
    expect(APICallError.isInstance(error) && error.statusCode).toBe(500);
    expect((error as Error).message).toContain('script bug');
  });

  it('bad JSON answers 400 with an OpenAI error body', async () => {
    const response = await fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('success responses carry x-ratelimit-* headers; remaining quota falls with use and setRateLimit overrides it', async () => {
    fake.setRateLimit('gpt-test', { limitRequests: 100, remainingRequests: 100, remainingTokens: 1000 });
    fake.script('gpt-test', { text: 'one', usage: { prompt_tokens: 10, completion_tokens: 5 } });
    const first = await generateText({ model: chatModel(), prompt: 'x' });
    expect(first.response.headers?.['x-ratelimit-limit-requests']).toBe('100');
    expect(first.response.headers?.['x-ratelimit-remaining-requests']).toBe('99');
    expect(first.response.headers?.['x-ratelimit-remaining-tokens']).toBe('985');

    fake.setRateLimit('gpt-test', { remainingRequests: 3 });
    const streamed = streamText({ model: chatModel(), prompt: 'y' });
    await streamed.consumeStream();
    expect((await streamed.response).headers?.['x-ratelimit-remaining-requests']).toBe('2');
  });

  it('a 429 carries retry headers and x-ratelimit-remaining-requests 0 on the APICallError', async () => {
    fake.script('gpt-test', { error: { status: 429, retryAfterSeconds: 7 } });
    const error = await generateText({ model: chatModel(), prompt: 'x', maxRetries: 0 }).catch((caught) => caught);
    expect(APICallError.isInstance(error) && error.responseHeaders).toMatchObject({
      'retry-after': '7',
      'x-ratelimit-remaining-requests': '0',
    });
  });

  it('records are bounded by maxRecordedRequests and reset() forgets scripts, faults and records', async () => {
    const small = await startFakeOpenAI({ maxRecordedRequests: 2 });
    try {
      const model = createOpenAI({ baseURL: small.baseURL, apiKey: small.apiKey }).chat('gpt-test');
      for (const prompt of ['a', 'b', 'c']) await generateText({ model, prompt });
      expect(small.requests.map((request) => request.id)).toEqual([2, 3]);

      small.script('gpt-test', { text: 'queued' });
      small.alwaysFail('gpt-test', { status: 500 });
      small.reset();
      expect(small.requests).toHaveLength(0);
      expect((await generateText({ model, prompt: 'z', maxRetries: 0 })).text).toBe('echo: z');
    } finally {
      await small.close();
    }
  });
});

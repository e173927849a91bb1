/**
 * The REAL `@ai-sdk/openai` chat provider (Chat Completions) against the fake over a loopback
 * socket. These tests pin down how the AI SDK behaves on the wire (retries, retry headers,
 * aborts, broken streams) because the agent code and the model chain rely on exactly that.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, RetryError, stepCountIs, streamText, tool } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';

let fake: FakeOpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI();
});

afterEach(async () => {
  await fake.close();
});

const chatModel = (modelId = 'gpt-test') => createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey }).chat(modelId);

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

  it('without a script, echoes the last user message', async () => {
    const result = await generateText({
      model: chatModel(),
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second question' },
      ],
    });
    expect(result.text).toBe('echo: second question');
  });

  it('maps finish reasons length and content_filter', async () => {
    fake.script('gpt-test', { text: 'cut', finishReason: 'length' }, { text: '', finishReason: 'content_filter' });

    const cut = streamText({ model: chatModel(), prompt: 'a' });
    await cut.consumeStream();
    expect(await cut.finishReason).toBe('length');

    const filtered = await generateText({ model: chatModel(), prompt: 'b' });
    expect(filtered.finishReason).toBe('content-filter');
  });
});

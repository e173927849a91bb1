import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineOpenAIEndpoint, type FakeOpenAI, startOpenAIServer } from './core.js';
import { errorHeaders, errorPayload } from './errors.js';
import { modelsEndpoint } from './models.js';

/**
 * How an endpoint plugs into the fake OpenAI core, shown with a small transcription-like endpoint:
 * a multipart body, the shared script book (queued steps, fault storms, rate limits), recording,
 * and the core's own answers (401, 404, 413, 500 for a broken handler).
 */
describe('fake OpenAI core: how an endpoint plugs in', () => {
  const transcriptions = defineOpenAIEndpoint({
    name: 'test-transcriptions',
    install(core) {
      core.route({
        method: 'POST',
        path: '/v1/audio/transcriptions',
        async handle(exchange, { rawBody }) {
          const contentType = exchange.record.headers['content-type'] ?? '';
          const form = await new Response(rawBody, { headers: { 'content-type': contentType } }).formData();
          const model = String(form.get('model'));
          exchange.record.model = model;
          core.notify();
          const fault = core.scripts.activeFault(model);
          if (fault !== undefined) {
            exchange.sendJson(fault.status, errorPayload(fault, model), errorHeaders(fault, {}));
            exchange.finish('error');
            return;
          }
          const step = core.scripts.nextStep(model);
          if (step === undefined || typeof step === 'function' || !('text' in step)) {
            throw new Error(`no transcript scripted for ${model}`);
          }
          exchange.sendJson(200, { text: step.text }, core.scripts.rateLimitHeaders(model));
          exchange.finish('ok');
        },
      });
      return {};
    },
  });

  let fake: FakeOpenAI;
  beforeEach(async () => {
    fake = await startOpenAIServer([transcriptions, modelsEndpoint], { maxBodyBytes: 64 * 1024 });
  });
  afterEach(async () => {
    await fake.close();
  });

  const transcribe = (model: string, bytes = 3, apiKey = fake.apiKey) => {
    const form = new FormData();
    form.set('model', model);
    form.set('file', new Blob([new Uint8Array(bytes)]), 'voice.ogg');
    return fetch(`${fake.baseURL}/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
      body: form,
    });
  };

  it('serves the endpoint from the shared script book and records the request', async () => {
    fake.script('whisper-1', { text: 'hello there' });
    const answered = await transcribe('whisper-1');
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ text: 'hello there' });
    expect(answered.headers.get('x-ratelimit-limit-requests')).toBe('10000');

    fake.alwaysFail('whisper-1', { status: 503 }, { times: 1 });
    const failed = await transcribe('whisper-1');
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ error: { type: 'server_error' } });

    const records = await fake.waitForRequests(2, { model: 'whisper-1' });
    expect(records.map((request) => [request.path, request.status, request.outcome])).toEqual([
      ['/v1/audio/transcriptions', 200, 'ok'],
      ['/v1/audio/transcriptions', 503, 'error'],
    ]);
    await fake.waitForIdle();
    expect(fake.inFlight).toBe(0);
  });

  it('answers 401, 404 and 413 itself, and 500 with the message of a handler that throws', async () => {
    expect((await transcribe('whisper-1', 3, 'sk-wrong')).status).toBe(401);
    const unknown = await fetch(`${fake.baseURL}/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}` },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { message: 'Invalid URL (POST /v1/audio/speech)' } });
    expect((await transcribe('whisper-1', 128 * 1024)).status).toBe(413);

    const broken = await transcribe('nothing-scripted');
    expect(broken.status).toBe(500);
    expect(await broken.json()).toMatchObject({
      error: { message: expect.stringContaining('no transcript scripted') },
    });
  });

  it('refuses an endpoint whose helper name is already taken, and closes what it started', async () => {
    const clash = defineOpenAIEndpoint({ name: 'clash', install: () => ({ reset: () => {} }) });
    await expect(startOpenAIServer([clash])).rejects.toThrow(/endpoint clash defines reset/);
  });
});

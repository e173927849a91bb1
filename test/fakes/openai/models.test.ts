import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai.js';

describe('fake OpenAI: models', () => {
  let fake: FakeOpenAI;

  beforeEach(async () => {
    fake = await startFakeOpenAI();
  });

  afterEach(async () => {
    await fake.close();
  });

  it('GET /v1/models lists the models (and needs the key)', async () => {
    fake.addModel('qwen-plus');
    const listed = await fetch(`${fake.baseURL}/models`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { object: string; data: Array<{ id: string; object: string }> };
    expect(body.object).toBe('list');
    expect(body.data.map((model) => model.id)).toEqual(['gpt-test', 'gpt-test-fallback', 'gpt-test-mini', 'qwen-plus']);

    const unauthorised = await fetch(`${fake.baseURL}/models`);
    expect(unauthorised.status).toBe(401);
    expect(await unauthorised.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});

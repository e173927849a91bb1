import { readFileSync } from 'node:fs';
import { createOpenAI } from '@ai-sdk/openai';
import { experimental_transcribe as transcribe } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai.js';

const voice = readFileSync(new URL('../../fixtures/attachments/voice.opus', import.meta.url));

describe('fake OpenAI /v1/audio/transcriptions with the real AI SDK', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ models: ['whisper-test'] });
  });
  afterAll(async () => {
    await fake.close();
  });

  const model = () => createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey }).transcription('whisper-test');

  it('records the uploaded audio and answers the scripted transcript', async () => {
    fake.script('whisper-test', { text: 'the meeting moves to Thursday' });
    const result = await transcribe({ model: model(), audio: voice, maxRetries: 0 });
    expect(result.text).toBe('the meeting moves to Thursday');
    const upload = fake.transcriptions().at(-1);
    expect(upload?.model).toBe('whisper-test');
    expect(upload?.file?.bytes.equals(voice)).toBe(true);
  });

  it('plays error steps as OpenAI errors the SDK surfaces', async () => {
    fake.script('whisper-test', { error: { status: 500, message: 'boom' } });
    await expect(transcribe({ model: model(), audio: voice, maxRetries: 0 })).rejects.toThrow();
  });

  it('refuses a bad key like every endpoint', async () => {
    const wrong = createOpenAI({ baseURL: fake.baseURL, apiKey: 'sk-wrong' }).transcription('whisper-test');
    await expect(transcribe({ model: wrong, audio: voice, maxRetries: 0 })).rejects.toThrow();
  });
});

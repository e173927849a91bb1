import { readFileSync } from 'node:fs';
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fakes/fake-openai.js';
import { attachmentFailure } from '../../test/support/attachment-fixtures.js';
import { createVoiceTranscriber } from './transcribe-voice.js';

const voice = readFileSync(new URL('../../test/fixtures/attachments/voice.opus', import.meta.url));
let stt: FakeOpenAI;
/** Uploads before the current test, so each test reads only its own. */
let before = 0;
const recorded = () => stt.transcriptions().slice(before);

beforeAll(async () => {
  stt = await startFakeOpenAI({ models: ['whisper-1'] });
});

beforeEach(() => {
  stt.reset();
  before = stt.transcriptions().length;
});

afterAll(async () => {
  await stt.close();
});

const model = () => createOpenAI({ baseURL: stt.baseURL, apiKey: stt.apiKey }).transcription('whisper-1');

describe('createVoiceTranscriber against an OpenAI-compatible endpoint', () => {
  it('uploads the Ogg Opus bytes as they are and returns the text', async () => {
    stt.script('whisper-1', { text: ' Please book the meeting room for Thursday at three. ' });
    const transcript = await createVoiceTranscriber({ model: model() }).transcribe({
      bytes: voice,
      name: 'the voice message',
    });
    expect(transcript.text).toBe('Please book the meeting room for Thursday at three.');
    expect(recorded()).toHaveLength(1);
    const [request] = recorded();
    expect(request!.authorization).toBe(`Bearer ${stt.apiKey}`);
    expect(request!.fields.model).toBe('whisper-1');
    expect(request!.file).toMatchObject({ name: 'audio.ogg', type: 'audio/ogg' });
    expect(request!.file!.bytes.equals(voice)).toBe(true);
  });

  it('sends a language hint and reads language and duration from verbose_json', async () => {
    // The fake answers verbose_json (language, duration, segments) when it is asked for.
    stt.script('whisper-1', { text: 'Please book the meeting room.' });
    const transcript = await createVoiceTranscriber({ model: model(), language: 'en' }).transcribe({
      bytes: voice,
      name: 'v',
    });
    expect(recorded()[0]?.fields).toMatchObject({ language: 'en', response_format: 'verbose_json' });
    expect(transcript).toEqual({ text: 'Please book the meeting room.', language: 'en', durationSeconds: 2 });
  });

  it('turns a server error into ATTACHMENT_TRANSCRIPTION_FAILED with the status', async () => {
    stt.script('whisper-1', { error: { status: 500, message: 'boom' } });
    const error = await attachmentFailure(
      createVoiceTranscriber({ model: model(), maxRetries: 0 }).transcribe({ bytes: voice, name: 'the voice message' }),
    );
    expect(error.code).toBe('ATTACHMENT_TRANSCRIPTION_FAILED');
    expect(error.notice).toBe('the voice message: the speech-to-text service failed (HTTP 500).');
  });

  it('says so when no speech was recognised', async () => {
    stt.script('whisper-1', { text: '' });
    const error = await attachmentFailure(
      createVoiceTranscriber({ model: model() }).transcribe({ bytes: voice, name: 'v' }),
    );
    expect(error.reason).toBe('no speech could be recognised in it');
  });

  it('times out on an endpoint that never answers, and aborts on the caller’s signal', async () => {
    stt.script('whisper-1', { hang: true }, { hang: true });
    const timedOut = await attachmentFailure(
      createVoiceTranscriber({ model: model(), timeoutMs: 200 }).transcribe({ bytes: voice, name: 'v' }),
    );
    expect(timedOut.code).toBe('ATTACHMENT_TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await attachmentFailure(
      createVoiceTranscriber({ model: model(), timeoutMs: 10_000 }).transcribe({
        bytes: voice,
        name: 'v',
        signal: controller.signal,
      }),
    );
    expect(aborted.code).toBe('ATTACHMENT_ABORTED');
  });

  it('refuses a recording over the upload limit without calling the service', async () => {
    const error = await attachmentFailure(
      createVoiceTranscriber({ model: model(), maxBytes: 1_000 }).transcribe({ bytes: voice, name: 'long.opus' }),
    );
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect(recorded()).toHaveLength(0);
  });
});

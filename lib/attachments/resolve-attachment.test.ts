import { randomBytes } from 'node:crypto';
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fakes/fake-openai.js';
import { fixture } from '../../test/support/attachment-fixtures.js';
import { AttachmentError } from './attachment-error.js';
import { createExtractionPool, type ExtractionPool } from './extraction-pool.js';
import { createAttachmentResolver } from './resolve-attachment.js';
import { createVoiceTranscriber } from './transcribe-voice.js';

let pool: ExtractionPool;
let stt: FakeOpenAI;

beforeAll(async () => {
  pool = createExtractionPool();
  stt = await startFakeOpenAI({ models: ['whisper-1'] });
  await pool.warm();
});

afterAll(async () => {
  await pool.close();
  await stt.close();
});

function resolver(options: { withTranscriber?: boolean; maxBytes?: number } = {}) {
  const model = createOpenAI({ baseURL: stt.baseURL, apiKey: stt.apiKey }).transcription('whisper-1');
  return createAttachmentResolver({
    extraction: pool,
    transcriber: options.withTranscriber === false ? undefined : createVoiceTranscriber({ model }),
    maxBytes: options.maxBytes,
    maxChars: 5_000,
  });
}

describe('createAttachmentResolver', () => {
  it('turns a PDF into text with its size, type and time', async () => {
    const bytes = fixture('report.pdf');
    const part = await resolver().resolve({ kind: 'file', name: 'report.pdf', bytes });
    if (part.kind !== 'document') throw new Error(`expected a document, got ${part.kind}`);
    expect(part).toMatchObject({ name: 'report.pdf', mediaType: 'application/pdf', sizeBytes: bytes.byteLength });
    expect(part.document.text).toContain('cobalt-1');
    expect(part.document.text).toMatch(/more pages not included/);
    expect(part.elapsedMs).toBeGreaterThan(0);
  });

  it('passes an image through untouched, also when it was sent as a file', async () => {
    const bytes = fixture('screenshot.png');
    const part = await resolver().resolve({ kind: 'file', name: 'screen.pdf', bytes });
    if (part.kind !== 'image') throw new Error(`expected an image, got ${part.kind}`);
    expect(part.image.bytes).toBe(bytes);
    expect(part.mediaType).toBe('image/png');
  });

  it('transcribes a voice message, or says plainly that it cannot', async () => {
    const voice = fixture('voice.opus');
    stt.script('whisper-1', { text: 'Please book the meeting room for Thursday at three.' });
    const heard = await resolver().resolve({ kind: 'audio', bytes: voice });
    if (heard.kind !== 'transcript') throw new Error(`expected a transcript, got ${heard.kind}`);
    expect(heard.transcript.text).toBe('Please book the meeting room for Thursday at three.');
    expect(stt.transcriptions().at(-1)?.file?.bytes.equals(voice)).toBe(true);
    const deaf = await resolver({ withTranscriber: false }).resolve({ kind: 'audio', bytes: voice });
    expect(deaf).toMatchObject({
      kind: 'notice',
      code: 'ATTACHMENT_UNSUPPORTED',
      notice: 'the voice message: voice messages cannot be listened to here: no speech-to-text model is configured.',
    });
  });

  it('answers every bad file with a notice naming it, never a rejection', async () => {
    const cases = [
      { name: 'secret.pdf', bytes: fixture('encrypted.pdf'), code: 'ATTACHMENT_ENCRYPTED' },
      { name: 'broken.pdf', bytes: fixture('corrupt.pdf'), code: 'ATTACHMENT_CORRUPT' },
      {
        name: 'mystery.bin',
        bytes: Buffer.concat([Buffer.from([0]), randomBytes(2_000)]),
        code: 'ATTACHMENT_UNSUPPORTED',
      },
      { name: 'big.csv', bytes: Buffer.alloc(2_000, 0x61), code: 'ATTACHMENT_TOO_LARGE', maxBytes: 1_000 },
    ];
    for (const { name, bytes, code, maxBytes } of cases) {
      const part = await resolver({ maxBytes }).resolve({ kind: 'file', name, bytes });
      expect(part).toMatchObject({ kind: 'notice', code, name });
      if (part.kind === 'notice') expect(part.notice.startsWith(`${name}: `)).toBe(true);
    }
  });

  it('rejects with ATTACHMENT_ABORTED when the job is being stopped, so nothing is answered', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await resolver()
      .resolve({ kind: 'file', name: 'report.pdf', bytes: fixture('report.pdf') }, { signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect(AttachmentError.isInstance(error) && error.code).toBe('ATTACHMENT_ABORTED');
  });
});

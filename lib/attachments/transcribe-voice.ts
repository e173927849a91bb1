import { type TranscriptionModel, experimental_transcribe as transcribe } from 'ai';
import { AttachmentError, formatBytes, formatDuration } from './attachment-error.js';

export interface Transcript {
  text: string;
  /** ISO-639-1 code when the service reports one. */
  language: string | undefined;
  durationSeconds: number | undefined;
}

export interface VoiceTranscriber {
  transcribe(input: { bytes: Uint8Array; name: string; signal?: AbortSignal }): Promise<Transcript>;
}

export interface VoiceTranscriberOptions {
  /** E.g. `createOpenAI({ baseURL, apiKey }).transcription('whisper-1')`. */
  model: TranscriptionModel;
  /** One transcription, retries included. */
  timeoutMs?: number;
  maxRetries?: number;
  /** OpenAI's /audio/transcriptions refuses files over 25 MB. */
  maxBytes?: number;
  /** ISO-639-1 hint (e.g. 'zh'); improves accuracy and speed when the speakers' language is known. */
  language?: string;
}

function httpStatus(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const status = (current as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') return status;
    const record = current as { lastError?: unknown; cause?: unknown };
    current = record.lastError ?? record.cause;
  }
  return undefined;
}

/**
 * Speech to text for voice messages through the AI SDK's transcription API, against any
 * OpenAI-compatible `/audio/transcriptions` endpoint. Feishu voice messages are Opus in Ogg,
 * which the API takes as it is (the SDK names the upload `audio.ogg`). Failures are typed:
 * ATTACHMENT_TIMEOUT, ATTACHMENT_ABORTED (the caller's signal), ATTACHMENT_TOO_LARGE, and
 * ATTACHMENT_TRANSCRIPTION_FAILED for a service error or no speech found.
 *
 * @example
 * const transcriber = createVoiceTranscriber({ model: openai.transcription('whisper-1') });
 * const { text } = await transcriber.transcribe({ bytes, name: 'voice message', signal });
 */
export function createVoiceTranscriber({
  model,
  timeoutMs = 60_000,
  maxRetries = 1,
  maxBytes = 25_000_000,
  language,
}: VoiceTranscriberOptions): VoiceTranscriber {
  return {
    async transcribe({ bytes, name, signal }) {
      if (bytes.byteLength > maxBytes) {
        throw new AttachmentError({
          code: 'ATTACHMENT_TOO_LARGE',
          fileName: name,
          reason: `the recording is larger than the ${formatBytes(maxBytes)} speech-to-text limit`,
        });
      }
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        const result = await transcribe({
          model,
          audio: bytes,
          maxRetries,
          abortSignal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
          ...(language === undefined ? {} : { providerOptions: { openai: { language } } }),
        });
        return { text: result.text.trim(), language: result.language, durationSeconds: result.durationInSeconds };
      } catch (error) {
        if (signal?.aborted) {
          throw new AttachmentError({
            code: 'ATTACHMENT_ABORTED',
            fileName: name,
            reason: 'transcribing it was cancelled',
            cause: error,
          });
        }
        if (deadline.aborted) {
          throw new AttachmentError({
            code: 'ATTACHMENT_TIMEOUT',
            fileName: name,
            reason: `transcribing it took longer than ${formatDuration(timeoutMs)}`,
            cause: error,
          });
        }
        const noSpeech = (error as { name?: unknown }).name === 'AI_NoTranscriptGeneratedError';
        const status = httpStatus(error);
        throw new AttachmentError({
          code: 'ATTACHMENT_TRANSCRIPTION_FAILED',
          fileName: name,
          reason: noSpeech
            ? 'no speech could be recognised in it'
            : `the speech-to-text service failed${status === undefined ? '' : ` (HTTP ${status})`}`,
          cause: error,
        });
      }
    },
  };
}

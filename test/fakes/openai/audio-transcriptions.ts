import { defineOpenAIEndpoint } from './core.js';
import { errorHeaders, errorPayload } from './errors.js';
import type { FakeErrorSpec } from './steps.js';
import { resolveStep } from './steps.js';

/**
 * `POST /v1/audio/transcriptions` as OpenAI's API reference describes it and the real
 * `@ai-sdk/openai` transcription model sends it: a multipart form with `file` and `model` (and
 * optional `language`, `prompt`, `temperature`, `response_format`, `timestamp_granularities[]`),
 * answered `{ text }`, or with `language`, `duration` and `segments` for `verbose_json`. Each
 * upload plays the model's next scripted step: a text step's `text` is the transcript; error and
 * hang steps work as for chat. With nothing scripted the transcript is empty.
 */

declare module './core.js' {
  interface FakeOpenAI {
    /** Uploads received, oldest first (bounded): the form fields and the audio file. */
    transcriptions(): readonly FakeTranscriptionUpload[];
  }
}

export interface FakeTranscriptionUpload {
  model: string;
  /** The Authorization header as sent. */
  authorization: string | undefined;
  fields: Record<string, string>;
  file: { name: string; type: string; bytes: Buffer } | undefined;
}

const MAX_UPLOADS = 100;

export const audioTranscriptionsEndpoint = defineOpenAIEndpoint({
  name: 'audio-transcriptions',
  install(core) {
    const uploads: FakeTranscriptionUpload[] = [];
    core.route({
      method: 'POST',
      path: '/v1/audio/transcriptions',
      async handle(exchange, { rawBody }) {
        let form: FormData;
        try {
          form = await new Request('http://fake/upload', {
            method: 'POST',
            headers: { 'content-type': exchange.record.headers['content-type'] ?? '' },
            body: new Uint8Array(rawBody),
          }).formData();
        } catch {
          exchange.fail(400, 'The request body must be multipart/form-data.', 'invalid_request_error', null);
          return;
        }
        const fields: Record<string, string> = {};
        let file: FakeTranscriptionUpload['file'];
        for (const [key, value] of form.entries()) {
          if (typeof value === 'string') fields[key] = value;
          else file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
        }
        const model = fields.model ?? '';
        exchange.record.model = model;
        exchange.record.body = {
          ...fields,
          file: file === undefined ? null : { name: file.name, bytes: file.bytes.byteLength },
        };
        if (uploads.length >= MAX_UPLOADS) uploads.shift();
        uploads.push({ model, authorization: exchange.record.headers.authorization, fields, file });
        core.notify();
        const respondError = (spec: FakeErrorSpec) => {
          exchange.sendJson(
            spec.status,
            errorPayload(spec, model),
            errorHeaders(spec, core.scripts.rateLimitHeaders(model)),
          );
          exchange.finish('error');
        };
        if (model === '') return respondError({ status: 400, message: 'you must provide a model parameter' });
        if (file === undefined) return respondError({ status: 400, message: "Missing required parameter: 'file'." });
        const fault = core.scripts.activeFault(model);
        if (fault !== undefined) return respondError(fault);
        const queued = core.scripts.nextStep(model);
        const step =
          queued === undefined
            ? { text: '' }
            : await resolveStep(queued, {
                model,
                messages: [],
                tools: undefined,
                stream: false,
                body: fields,
                headers: exchange.record.headers,
                lastUserText: '',
              });
        if ('hang' in step) {
          exchange.record.outcome = 'hang';
          await exchange.waitUntilAborted();
          return;
        }
        if ('error' in step) return respondError(step.error);
        const text = 'text' in step && typeof step.text === 'string' ? step.text : '';
        if (fields.response_format === 'verbose_json') {
          const duration = Math.max(1, Math.round(text.length / 15));
          exchange.sendJson(200, {
            task: 'transcribe',
            // OpenAI names the language in full ("english"); the SDK maps it to a code.
            language: 'english',
            duration,
            text,
            segments: [
              {
                id: 0,
                seek: 0,
                start: 0,
                end: duration,
                text,
                tokens: [],
                temperature: 0,
                avg_logprob: -0.2,
                compression_ratio: 1,
                no_speech_prob: 0.01,
              },
            ],
          });
        } else {
          exchange.sendJson(200, { text });
        }
        exchange.finish('ok');
      },
    });
    return { transcriptions: () => uploads };
  },
});

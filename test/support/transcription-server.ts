/**
 * A minimal OpenAI-compatible `POST /v1/audio/transcriptions` on 127.0.0.1: it parses the
 * multipart upload with the platform's own FormData parser, records it, and answers as OpenAI's
 * API reference shows (`{ text }` for json; language, duration and segments for verbose_json).
 * To be folded into the shared fake OpenAI (test/fakes) once that serves the route.
 *
 * @example
 * const stt = await startTranscriptionServer();
 * stt.answer(() => ({ status: 200, body: { text: 'hello' } }));
 * const model = createOpenAI({ baseURL: stt.baseURL, apiKey: stt.apiKey }).transcription('whisper-1');
 * await stt.close();
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedTranscription {
  authorization: string | undefined;
  fields: Record<string, string>;
  file: { name: string; type: string; bytes: Buffer } | undefined;
}

export type TranscriptionAnswer = (fields: Record<string, string>) => { status: number; body?: unknown } | 'hang';

async function readForm(request: IncomingMessage): Promise<FormData> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new Request('http://local/upload', {
    method: 'POST',
    headers: { 'content-type': request.headers['content-type'] ?? '' },
    body: Buffer.concat(chunks),
  }).formData();
}

export async function startTranscriptionServer({ apiKey = 'sk-transcription-test' } = {}) {
  const recorded: RecordedTranscription[] = [];
  let answer: TranscriptionAnswer = () => ({ status: 200, body: { text: '' } });
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/audio/transcriptions') {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            message: 'Incorrect API key provided',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        }),
      );
      return;
    }
    const form = await readForm(request);
    const fields: Record<string, string> = {};
    let file: RecordedTranscription['file'];
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') fields[key] = value;
      else file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
    }
    // Bounded: a test never needs more than the last hundred uploads.
    if (recorded.length >= 100) recorded.shift();
    recorded.push({ authorization: request.headers.authorization, fields, file });
    const reply = answer(fields);
    if (reply === 'hang') return;
    response.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    apiKey,
    recorded,
    answer(next: TranscriptionAnswer) {
      answer = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

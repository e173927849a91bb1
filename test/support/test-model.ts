import type { LanguageModelV3StreamPart, LanguageModelV3StreamResult } from '@ai-sdk/provider';
import { APICallError } from 'ai';

/**
 * Helpers for unit tests that drive agent code with `MockLanguageModelV3`: one place, so every
 * agent test speaks the same stream dialect. Tests that need real HTTP use test/fakes/fake-openai.
 */

export const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

/** A stream result that says `text` in `chunks` pieces, then finishes. */
export function textResult(text: string, { chunks = 3, input = 10, output = 5 } = {}): LanguageModelV3StreamResult {
  return { stream: partsStream(textParts(text, { chunks, input, output })) };
}

export function textParts(text: string, { chunks = 3, input = 10, output = 5 } = {}): LanguageModelV3StreamPart[] {
  const size = Math.max(1, Math.ceil(text.length / chunks));
  const parts: LanguageModelV3StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't' },
  ];
  for (let index = 0; index < text.length; index += size) {
    parts.push({ type: 'text-delta', id: 't', delta: text.slice(index, index + size) });
  }
  parts.push({ type: 'text-end', id: 't' });
  parts.push({ type: 'finish', usage: usage(input, output), finishReason: { unified: 'stop', raw: 'stop' } });
  return parts;
}

/** A step that only calls one tool. */
export function toolCallResult(
  toolName: string,
  input: Record<string, unknown>,
  { id = `call-${toolName}`, inputTokens = 10, outputTokens = 5 } = {},
): LanguageModelV3StreamResult {
  return {
    stream: partsStream([
      { type: 'stream-start', warnings: [] },
      { type: 'tool-call', toolCallId: id, toolName, input: JSON.stringify(input) },
      {
        type: 'finish',
        usage: usage(inputTokens, outputTokens),
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      },
    ]),
  };
}

export function partsStream(parts: readonly LanguageModelV3StreamPart[]): ReadableStream<LanguageModelV3StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

/** Emits `parts`, then errors the stream with `error` (a dropped connection mid-answer). */
export function brokenStream(parts: readonly LanguageModelV3StreamPart[], error: unknown): LanguageModelV3StreamResult {
  let index = 0;
  return {
    // Pull-based: `controller.error` in `start` would discard the queued parts unread.
    stream: new ReadableStream({
      pull(controller) {
        const part = parts[index++];
        if (part === undefined) controller.error(error);
        else controller.enqueue(part);
      },
    }),
  };
}

/** Never yields a part until aborted (a hung provider). */
export function hangingResult(signal: AbortSignal | undefined): LanguageModelV3StreamResult {
  return {
    stream: new ReadableStream({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
        signal?.addEventListener('abort', () => controller.error(signal.reason), { once: true });
      },
    }),
  };
}

export function apiCallError(statusCode: number, extra: Partial<ConstructorParameters<typeof APICallError>[0]> = {}) {
  return new APICallError({
    message: extra.message ?? `HTTP ${statusCode}`,
    url: 'http://127.0.0.1/v1/chat/completions',
    requestBodyValues: {},
    statusCode,
    isRetryable: statusCode === 429 || statusCode >= 500,
    ...extra,
  });
}

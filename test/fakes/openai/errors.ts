import type { FakeErrorSpec } from './steps.js';

/**
 * OpenAI's error bodies `{ error: { message, type, param, code } }` with the messages the real
 * API sends for each status, so the AI SDK classifies them as it would in production.
 *
 * @example
 * sendJson(429, errorPayload({ status: 429 }, 'gpt-test')); // code rate_limit_exceeded
 */
export function errorPayload(spec: FakeErrorSpec, model: string) {
  const defaults = defaultErrorBody(spec, model);
  return {
    error: {
      message: spec.message ?? defaults.message,
      type: spec.type ?? defaults.type,
      param: spec.code === 'context_length_exceeded' ? 'messages' : null,
      code: spec.code ?? defaults.code,
    },
  };
}

/** `retry-after` / `retry-after-ms` as the spec asks; a 429 also reports no requests remaining. */
export function errorHeaders(spec: FakeErrorSpec, rateLimitHeaders: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (spec.retryAfterSeconds !== undefined) headers['retry-after'] = String(spec.retryAfterSeconds);
  if (spec.retryAfterMs !== undefined) headers['retry-after-ms'] = String(spec.retryAfterMs);
  if (spec.status === 429) Object.assign(headers, rateLimitHeaders, { 'x-ratelimit-remaining-requests': '0' });
  return headers;
}

function defaultErrorBody(spec: FakeErrorSpec, model: string): { message: string; type: string; code: string | null } {
  switch (spec.status) {
    case 429:
      return {
        message: `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`,
        type: 'requests',
        code: 'rate_limit_exceeded',
      };
    case 401:
      return {
        message:
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 404:
      return {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 400:
      if (spec.code === 'context_length_exceeded') {
        return {
          message:
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
        };
      }
      if (spec.code === 'content_filter') {
        return {
          message:
            'The response was filtered due to the prompt triggering content management policy. Please modify your prompt and retry.',
          type: 'invalid_request_error',
          code: 'content_filter',
        };
      }
      return { message: 'Invalid request.', type: 'invalid_request_error', code: null };
    case 503:
      return {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: null,
      };
    default:
      return {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        code: null,
      };
  }
}

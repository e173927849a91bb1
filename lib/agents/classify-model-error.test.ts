import { APICallError, RetryError } from 'ai';
import { describe, expect, it } from 'vitest';
import { classifyModelError, ModelTimeoutError, parseRetryAfter, userMessageFor } from './classify-model-error.js';
import { ModelChainError } from './model-chain.js';

const apiCallError = (
  statusCode: number | undefined,
  extra: Partial<ConstructorParameters<typeof APICallError>[0]> = {},
) =>
  new APICallError({
    message: extra.message ?? `status ${statusCode}`,
    url: 'http://127.0.0.1/v1/chat/completions',
    requestBodyValues: {},
    ...(statusCode === undefined ? {} : { statusCode }),
    ...extra,
  });

describe('classifyModelError', () => {
  it('429 is RATE_LIMIT, a model fault, with retry-after and remaining quota from the headers', () => {
    const result = classifyModelError(
      apiCallError(429, { responseHeaders: { 'Retry-After': '2', 'x-ratelimit-remaining-requests': '0' } }),
    );
    expect(result).toMatchObject({
      category: 'RATE_LIMIT',
      modelFault: true,
      retryable: true,
      retryAfterMs: 2000,
      remaining: 0,
      statusCode: 429,
    });
  });

  it('prefers retry-after-ms over retry-after', () => {
    expect(
      classifyModelError(apiCallError(429, { responseHeaders: { 'retry-after-ms': '150', 'retry-after': '9' } }))
        .retryAfterMs,
    ).toBe(150);
  });

  it('a token-per-minute 429 mentioning tokens stays RATE_LIMIT', () => {
    expect(classifyModelError(apiCallError(429, { message: 'Rate limit: too many tokens per min' })).category).toBe(
      'RATE_LIMIT',
    );
  });

  it('401 and 403 are AUTH and do not fall over', () => {
    for (const status of [401, 403]) {
      expect(classifyModelError(apiCallError(status))).toMatchObject({ category: 'AUTH', modelFault: false });
    }
  });

  it('context_length_exceeded in the body data is CONTEXT_LENGTH, about the request', () => {
    const error = apiCallError(400, {
      message: 'Bad request',
      data: {
        error: { code: 'context_length_exceeded', message: 'This model has a maximum context length of 8192 tokens' },
      },
    });
    expect(classifyModelError(error)).toMatchObject({
      category: 'CONTEXT_LENGTH',
      modelFault: false,
      retryable: false,
    });
    expect(classifyModelError(apiCallError(413))).toMatchObject({ category: 'CONTEXT_LENGTH' });
  });

  it('content policy refusals are CONTENT_FILTER', () => {
    const openai = apiCallError(400, { data: { error: { code: 'content_policy_violation', message: 'refused' } } });
    const qwen = apiCallError(400, {
      responseBody: '{"code":"data_inspection_failed","message":"Input data may contain inappropriate content."}',
    });
    expect(classifyModelError(openai)).toMatchObject({ category: 'CONTENT_FILTER', modelFault: false });
    expect(classifyModelError(qwen)).toMatchObject({ category: 'CONTENT_FILTER', modelFault: false });
  });

  it('5xx is an outage: OTHER, model fault, retryable; 504 and 408 are TIMEOUT', () => {
    expect(classifyModelError(apiCallError(500))).toMatchObject({
      category: 'OTHER',
      modelFault: true,
      retryable: true,
    });
    expect(classifyModelError(apiCallError(503))).toMatchObject({ category: 'OTHER', modelFault: true });
    expect(classifyModelError(apiCallError(504))).toMatchObject({ category: 'TIMEOUT', modelFault: true });
    expect(classifyModelError(apiCallError(408))).toMatchObject({ category: 'TIMEOUT', modelFault: true });
  });

  it('404 (unknown model) falls over without retrying; other 4xx are the request', () => {
    expect(classifyModelError(apiCallError(404))).toMatchObject({
      category: 'OTHER',
      modelFault: true,
      retryable: false,
    });
    expect(classifyModelError(apiCallError(422))).toMatchObject({ category: 'OTHER', modelFault: false });
  });

  it('connection failures are NETWORK via the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const wrapped = apiCallError(undefined, { message: 'Cannot connect to API', cause: refused, isRetryable: true });
    expect(classifyModelError(wrapped)).toMatchObject({ category: 'NETWORK', modelFault: true, retryable: true });
    const terminated = new TypeError('terminated', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    expect(classifyModelError(terminated)).toMatchObject({ category: 'NETWORK' });
    expect(
      classifyModelError(
        new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
      ).category,
    ).toBe('NETWORK');
  });

  it('a body cut off mid-stream (status 200, cause "terminated") is NETWORK', () => {
    const cause = new TypeError('terminated', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const error = apiCallError(200, { message: 'Failed to process successful response', cause, isRetryable: true });
    expect(classifyModelError(error)).toMatchObject({ category: 'NETWORK', modelFault: true });
    const bare = apiCallError(200, {
      message: 'Failed to process successful response',
      cause: new TypeError('terminated'),
    });
    expect(classifyModelError(bare).category).toBe('NETWORK');
  });

  it('"Cannot connect to API" without a coded cause is still NETWORK', () => {
    const error = apiCallError(undefined, {
      message: 'Cannot connect to API: bad port',
      cause: new Error('bad port'),
      isRetryable: true,
    });
    expect(classifyModelError(error)).toMatchObject({ category: 'NETWORK', modelFault: true });
  });

  it('RetryError is classified by its last error', () => {
    const error = new RetryError({
      message: 'failed',
      reason: 'maxRetriesExceeded',
      errors: [apiCallError(500), apiCallError(429)],
    });
    expect(classifyModelError(error).category).toBe('RATE_LIMIT');
  });

  it('our own timeouts are TIMEOUT model faults; a bare abort is not the model’s fault', () => {
    expect(classifyModelError(new ModelTimeoutError('first-token', 100))).toMatchObject({
      category: 'TIMEOUT',
      modelFault: true,
    });
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(classifyModelError(abort)).toMatchObject({ category: 'TIMEOUT', modelFault: false });
  });

  it('keeps the category a ModelChainError already carries', () => {
    expect(classifyModelError(new ModelChainError({ category: 'CONTEXT_LENGTH', message: 'x' })).category).toBe(
      'CONTEXT_LENGTH',
    );
  });

  it('anything else is OTHER with a one-line message', () => {
    const result = classifyModelError(new Error('first line\n    at stack frame'));
    expect(result).toMatchObject({ category: 'OTHER', modelFault: false, message: 'first line' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, fractional seconds and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '1.5' })).toBe(1500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, () => now)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parseRetryAfter({})).toBeUndefined();
  });
});

describe('userMessageFor', () => {
  it('gives every category a short sentence without technical detail', () => {
    expect(userMessageFor('RATE_LIMIT')).toMatch(/rate-limiting/);
    expect(userMessageFor('CONTEXT_LENGTH')).toMatch(/\/reset/);
    for (const category of ['TIMEOUT', 'NETWORK', 'AUTH', 'CONTENT_FILTER', 'OTHER'] as const) {
      expect(userMessageFor(category).length).toBeLessThan(120);
    }
  });
});

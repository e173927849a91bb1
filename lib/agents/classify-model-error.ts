import { APICallError, RetryError } from 'ai';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { ErrorCategory } from '../observe/error-category.js';
import { type HeaderSource, parseRetryAfterMs, readHeader } from '../util/retry-after.js';

/**
 * What the model chain needs to know about a failed model call.
 *
 * `modelFault` separates errors about the MODEL (rate limit, outage, timeout, network, unknown
 * model) from errors about the REQUEST (bad key, prompt too long, content refused). Only model
 * faults fall over to the next model and count towards that model's circuit breaker: another
 * model cannot fix a prompt that is too long, and one user's long prompt must not open the
 * breaker for everybody.
 */
export interface ClassifiedModelError {
  category: ErrorCategory;
  /** Fall over to the next model and count a breaker failure. */
  modelFault: boolean;
  /** Worth another try on the same model after a pause (429, 5xx, network). */
  retryable: boolean;
  statusCode?: number;
  /** From `retry-after-ms` / `retry-after` (seconds or HTTP date). */
  retryAfterMs?: number;
  /** Remaining requests from `x-ratelimit-remaining-requests` when the provider sends it. */
  remaining?: number;
  /** Short, single-line, no stack: safe for logs, events and devtools. */
  message: string;
}

/** Thrown (as an abort reason) when the model chain's own timer cuts a call off. */
export class ModelTimeoutError extends Error {
  readonly code = 'MODEL_TIMEOUT';
  readonly phase: 'first-token' | 'total';
  readonly timeoutMs: number;
  constructor(phase: 'first-token' | 'total', timeoutMs: number) {
    super(
      phase === 'first-token'
        ? `No first token within ${timeoutMs} ms`
        : `Model call did not finish within ${timeoutMs} ms`,
    );
    this.name = 'ModelTimeoutError';
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
  static isInstance(error: unknown): error is ModelTimeoutError {
    return error instanceof Error && (error as { code?: unknown }).code === 'MODEL_TIMEOUT';
  }
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ConnectionRefused',
  'ConnectionClosed',
  'FailedToOpenSocket',
]);

const NETWORK_MESSAGES = ['fetch failed', 'failed to fetch', 'terminated', 'socket hang up', 'other side closed'];

const CONTEXT_LENGTH_PATTERN =
  /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|input is too long|reduce the length|string_above_max_length/i;
const CONTENT_FILTER_PATTERN =
  /content[_ ]filter|content[_ ]policy|content management policy|data_inspection_failed|inappropriate content|safety system|responsible ai/i;

/**
 * Sorts any error a model call can produce into a stable category, using the SDK's `isInstance`
 * checks (never `instanceof`: two copies of the SDK may be loaded).
 *
 * @example
 * const { category, modelFault, retryAfterMs } = classifyModelError(error);
 */
export function classifyModelError(error: unknown, now: () => number = Date.now): ClassifiedModelError {
  if (RetryError.isInstance(error)) return classifyModelError(error.lastError, now);
  if (ModelTimeoutError.isInstance(error)) {
    return { category: 'TIMEOUT', modelFault: true, retryable: false, message: error.message };
  }
  if (isCategorised(error)) {
    return { category: error.category, modelFault: false, retryable: false, message: oneLine(error.message) };
  }
  if (APICallError.isInstance(error)) return classifyApiCallError(error, now);
  if (isAbortLike(error)) {
    // A bare abort comes from the caller's signal (shutdown, lease lost): not the model's fault.
    return { category: 'TIMEOUT', modelFault: false, retryable: false, message: 'The model call was aborted' };
  }
  if (isNetworkError(error)) {
    return { category: 'NETWORK', modelFault: true, retryable: true, message: networkMessage(error) };
  }
  return { category: 'OTHER', modelFault: false, retryable: false, message: oneLine(messageOf(error)) };
}

function classifyApiCallError(error: APICallError, now: () => number): ClassifiedModelError {
  const status = error.statusCode;
  const headers = error.responseHeaders;
  const retryAfterMs = parseRetryAfter(headers, now);
  const remaining = parseRemaining(headers);
  const detail = providerErrorText(error);
  const base = {
    ...(status === undefined ? {} : { statusCode: status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(remaining === undefined ? {} : { remaining }),
    message: oneLine(`${status === undefined ? '' : `HTTP ${status}: `}${error.message}`),
  };

  // A socket that dies mid-body arrives as "Failed to process successful response" with status
  // 200 and cause TypeError('terminated'): the status is not the story, the cause is.
  if (isNetworkError(error.cause)) return { ...base, category: 'NETWORK', modelFault: true, retryable: true };
  if (status === undefined) {
    // provider-utils wraps every failed fetch as "Cannot connect to API: <cause>".
    if (isNetworkError(error) || error.message.startsWith('Cannot connect to API')) {
      return { ...base, category: 'NETWORK', modelFault: true, retryable: true };
    }
    return { ...base, category: 'OTHER', modelFault: error.isRetryable, retryable: error.isRetryable };
  }
  // 429 first: token-per-minute limits mention "tokens" but are rate limits, not context errors.
  if (status === 429) return { ...base, category: 'RATE_LIMIT', modelFault: true, retryable: true };
  if (status === 401 || status === 403) return { ...base, category: 'AUTH', modelFault: false, retryable: false };
  // Content and context errors come back as 400 (sometimes 422/413) and say so in code/type/message.
  if (status >= 400 && status < 500 && CONTENT_FILTER_PATTERN.test(detail)) {
    return { ...base, category: 'CONTENT_FILTER', modelFault: false, retryable: false };
  }
  if (status === 413 || (status >= 400 && status < 500 && CONTEXT_LENGTH_PATTERN.test(detail))) {
    return { ...base, category: 'CONTEXT_LENGTH', modelFault: false, retryable: false };
  }
  if (status === 408 || status === 504 || status === 524) {
    return { ...base, category: 'TIMEOUT', modelFault: true, retryable: true };
  }
  if (status >= 500) return { ...base, category: 'OTHER', modelFault: true, retryable: true };
  // 404: this model id does not exist at this provider; the next model may.
  if (status === 404) return { ...base, category: 'OTHER', modelFault: true, retryable: false };
  return { ...base, category: 'OTHER', modelFault: false, retryable: false };
}

/** An error that already carries a category (the chain's own ModelChainError). */
function isCategorised(error: unknown): error is Error & { category: ErrorCategory } {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'MODEL_CHAIN_FAILED' &&
    typeof (error as { category?: unknown }).category === 'string'
  );
}

/** The code, type and message the provider put in its error body, lower-cased for matching. */
function providerErrorText(error: APICallError): string {
  const parts: string[] = [error.message];
  const data = error.data as { error?: { code?: unknown; type?: unknown; message?: unknown } } | undefined;
  const inner = data?.error ?? (error.data as { code?: unknown; type?: unknown; message?: unknown } | undefined);
  if (inner !== undefined && inner !== null && typeof inner === 'object') {
    for (const value of [inner.code, inner.type, inner.message]) {
      if (typeof value === 'string' || typeof value === 'number') parts.push(String(value));
    }
  }
  if (typeof error.responseBody === 'string') parts.push(error.responseBody.slice(0, 2_000));
  return parts.join(' ');
}

/**
 * Milliseconds to wait from `retry-after-ms` (OpenAI, Azure), or `retry-after` in seconds or as
 * an HTTP date. Undefined when absent or unparseable.
 */
export function parseRetryAfter(headers: HeaderSource, now: () => number = Date.now): number | undefined {
  return parseRetryAfterMs(headers, now());
}

function parseRemaining(headers: HeaderSource): number | undefined {
  const raw = readHeader(headers, 'x-ratelimit-remaining-requests') ?? readHeader(headers, 'x-ratelimit-remaining');
  if (raw === undefined) return undefined;
  const value = Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : undefined;
}

function isAbortLike(error: unknown): boolean {
  if (!(error instanceof Error) && !(typeof error === 'object' && error !== null)) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'AbortError' || name === 'TimeoutError' || name === 'ResponseAborted';
}

/** Walks the `cause` chain (bounded) looking for a socket-level failure. */
function isNetworkError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current !== 'object') return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
    const message = (current as { message?: unknown }).message;
    if (
      current instanceof TypeError &&
      typeof message === 'string' &&
      NETWORK_MESSAGES.includes(message.toLowerCase())
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function networkMessage(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return `Network error (${code})`;
    current = (current as { cause?: unknown }).cause;
  }
  return oneLine(`Network error: ${messageOf(error)}`);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return 'Unknown error';
}

/** First line only, bounded: provider messages can embed whole request bodies. */
function oneLine(text: string): string {
  const first = text.split('\n', 1)[0] ?? '';
  return first.length > 300 ? `${first.slice(0, 297)}...` : first;
}

/** A short, honest sentence for the user per category: never a stack trace or provider detail. */
export function userMessageFor(category: ErrorCategory, language: Language = 'en'): string {
  return textsFor(language).modelErrors[category];
}

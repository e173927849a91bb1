import * as lark from '@larksuiteoapi/node-sdk';
import type { EventBus } from '../observe/event-bus.js';
import { errorMessage } from '../util/error-message.js';
import { parseRetryAfterMs, readHeader } from '../util/retry-after.js';
import { withTimeout } from '../util/with-timeout.js';

/** Feishu answers that mean "slow down": HTTP 429, the gateway's 99991400, and IM's 230020. */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([99991400, 230020]);
/** The tenant_access_token the SDK cached is no longer accepted; evict it and fetch a new one. */
export const TOKEN_INVALID_CODES: ReadonlySet<number> = new Set([99991663]);

const MARKER = Symbol.for('feishu-bot.FeishuApiError');

/**
 * A failed Feishu Open API call, whatever shape the failure had: a thrown axios error (the SDK
 * throws on any non-2xx status, with the Feishu body in `error.response.data`), an HTTP-200 body
 * with `code !== 0`, a timeout, or a network error.
 *
 * Recognise it with `FeishuApiError.isInstance(error)` (works across module copies, unlike
 * `instanceof`), then branch on `code` / `rateLimited` / `tokenInvalid`.
 */
export class FeishuApiError extends Error {
  readonly [MARKER] = true;
  override readonly name = 'FeishuApiError';
  /** The SDK method or route that failed, e.g. `cardkit.v1.cardElement.content`. */
  readonly api: string;
  /** Feishu's business code (`code` in the body); undefined when no body came back. */
  readonly code: number | undefined;
  /** HTTP status; undefined for HTTP-200 bodies with code ≠ 0, timeouts and network errors. */
  readonly httpStatus: number | undefined;
  /** How long the server asked us to wait (`x-ogw-ratelimit-reset` or `retry-after`), in ms. */
  readonly retryAfterMs: number | undefined;
  /** Feishu's request id (`x-tt-logid`), for support tickets. */
  readonly logId: string | undefined;
  /** The call did not answer within its timeout (it may still land on the server). */
  readonly timedOut: boolean;
  /** No HTTP answer at all: connection refused/reset, DNS, socket timeout. */
  readonly network: boolean;

  constructor({
    api,
    message,
    code,
    httpStatus,
    retryAfterMs,
    logId,
    timedOut = false,
    network = false,
    cause,
  }: {
    api: string;
    message: string;
    code?: number;
    httpStatus?: number;
    retryAfterMs?: number;
    logId?: string;
    timedOut?: boolean;
    network?: boolean;
    cause?: unknown;
  }) {
    super(message, { cause });
    this.api = api;
    this.code = code;
    this.httpStatus = httpStatus;
    this.retryAfterMs = retryAfterMs;
    this.logId = logId;
    this.timedOut = timedOut;
    this.network = network;
  }

  static isInstance(error: unknown): error is FeishuApiError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }

  /** The server said "too many requests": back off (for `retryAfterMs` when given) and retry. */
  get rateLimited(): boolean {
    return this.httpStatus === 429 || (this.code !== undefined && RATE_LIMIT_CODES.has(this.code));
  }

  get tokenInvalid(): boolean {
    return this.code !== undefined && TOKEN_INVALID_CODES.has(this.code);
  }

  /** Worth retrying unchanged: rate limits, 5xx, timeouts and network errors (no answer at all). */
  get transient(): boolean {
    if (this.rateLimited || this.timedOut || this.network) return true;
    return this.httpStatus !== undefined && this.httpStatus >= 500;
  }
}

export interface CallFeishuOptions {
  /**
   * Give up waiting after this long (the SDK itself never times out). The request may still
   * reach Feishu, so only use it where a late duplicate is harmless (idempotent uuid, sequence).
   */
  timeoutMs?: number;
  /**
   * With a client, a 99991663 (token invalid) answer evicts the SDK's cached tenant token and
   * retries the call once with a fresh one.
   */
  client?: lark.Client;
}

type FeishuBody = { code?: number; msg?: string } | undefined | null;

/**
 * Calls one Feishu API through the SDK, times it, reports it on the bus as `feishu.api`, and
 * turns every kind of failure into a `FeishuApiError`. Returns the response body when
 * `code` is 0 (or absent).
 *
 * @example
 * const body = await callFeishu(bus, 'im.v1.message.reply', () =>
 *   client.im.v1.message.reply({ path: { message_id }, data: { msg_type: 'text', content, uuid } }),
 *   { client, timeoutMs: 10_000 });
 * const messageId = body.data?.message_id;
 */
export async function callFeishu<T extends FeishuBody>(
  bus: EventBus,
  api: string,
  fn: () => Promise<T>,
  { timeoutMs, client }: CallFeishuOptions = {},
): Promise<T> {
  try {
    return await callOnce(bus, api, fn, timeoutMs);
  } catch (error) {
    if (client && FeishuApiError.isInstance(error) && error.tokenInvalid) {
      await evictTenantToken(client);
      return await callOnce(bus, api, fn, timeoutMs);
    }
    throw error;
  }
}

async function callOnce<T extends FeishuBody>(
  bus: EventBus,
  api: string,
  fn: () => Promise<T>,
  timeoutMs: number | undefined,
): Promise<T> {
  const startedAt = performance.now();
  const report = (outcome: 'ok' | 'rate-limited' | 'error', code?: number) => {
    const latencyMs = Math.round(performance.now() - startedAt);
    bus.emit(
      code === undefined
        ? { type: 'feishu.api', api, outcome, latencyMs }
        : { type: 'feishu.api', api, outcome, latencyMs, code },
    );
  };
  let body: T;
  try {
    body =
      timeoutMs === undefined
        ? await fn()
        : await withTimeout(
            fn(),
            timeoutMs,
            () => new FeishuApiError({ api, message: `${api} timed out after ${timeoutMs} ms`, timedOut: true }),
          );
  } catch (thrown) {
    const error = toFeishuApiError(api, thrown);
    report(error.rateLimited ? 'rate-limited' : 'error', error.code);
    throw error;
  }
  const code = typeof body?.code === 'number' ? body.code : 0;
  if (code !== 0) {
    const error = new FeishuApiError({ api, code, message: `${api} failed: ${code} ${body?.msg ?? ''}`.trim() });
    report(error.rateLimited ? 'rate-limited' : 'error', code);
    throw error;
  }
  report('ok');
  return body;
}

/**
 * Normalises anything the SDK can throw. Axios errors carry the Feishu body in
 * `response.data` and the rate-limit hint in `response.headers`.
 */
export function toFeishuApiError(api: string, thrown: unknown): FeishuApiError {
  if (FeishuApiError.isInstance(thrown)) return thrown;
  const response = readObject(readObject(thrown)?.response);
  const data = readObject(response?.data);
  const code = typeof data?.code === 'number' ? data.code : undefined;
  const httpStatus = typeof response?.status === 'number' ? response.status : undefined;
  // AxiosHeaders answers a case-insensitive get(); plain objects from node are lower-case already.
  const headers = readObject(response?.headers);
  const retryAfterMs = parseRetryAfterMs(headers);
  const logId = readHeader(headers, 'x-tt-logid');
  const reason = typeof data?.msg === 'string' ? data.msg : errorMessage(thrown ?? 'unknown');
  const parts = [`${api} failed:`, httpStatus === undefined ? undefined : `HTTP ${httpStatus}`, code, reason];
  // Axios marks its own errors; without a response they never reached an HTTP answer.
  const fromAxios = readObject(thrown)?.isAxiosError === true;
  return new FeishuApiError({
    api,
    message: parts.filter((part) => part !== undefined).join(' '),
    network: fromAxios && response === undefined,
    ...(code === undefined ? {} : { code }),
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(logId === undefined ? {} : { logId }),
    cause: thrown,
  });
}

function readObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * Drops the SDK's cached tenant_access_token for this app, so its next call fetches a new one.
 * The SDK keeps the token in `client.tokenManager.cache` under `CTenantAccessToken`, namespaced
 * by appId (the default cache is shared by every Client in the process); an already-expired
 * empty entry reads as a miss in the default cache and in any cache that honours expiry.
 */
export async function evictTenantToken(client: lark.Client): Promise<void> {
  const cache = client.tokenManager?.cache ?? client.cache;
  await cache?.set(lark.CTenantAccessToken, '', 1, { namespace: client.appId });
}

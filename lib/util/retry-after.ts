/** Header lookup as both fetch/axios headers and plain records offer it. */
export type HeaderSource = { get(name: string): unknown } | Record<string, unknown> | undefined | null;

/**
 * Milliseconds a server asked us to wait before trying again, from (first match wins):
 * `retry-after-ms` (OpenAI, Azure), `x-ogw-ratelimit-reset` (Feishu's gateway: seconds until its
 * window resets) and the standard `retry-after` (seconds, or an HTTP date). Undefined when none is
 * present or parseable. Header names are matched case-insensitively.
 *
 * @example
 * const waitMs = parseRetryAfterMs(response.headers) ?? backoffDelay(attempt, backoff);
 */
export function parseRetryAfterMs(headers: HeaderSource, now: number = Date.now()): number | undefined {
  const milliseconds = readNumber(readHeader(headers, 'retry-after-ms'));
  if (milliseconds !== undefined) return Math.ceil(milliseconds);
  const reset = readNumber(readHeader(headers, 'x-ogw-ratelimit-reset'));
  if (reset !== undefined) return Math.ceil(reset * 1000);
  const retryAfter = readHeader(headers, 'retry-after');
  if (retryAfter === undefined) return undefined;
  const seconds = readNumber(retryAfter);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** One header's value as a string, whatever container carries it. */
export function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  const lower = name.toLowerCase();
  let value: unknown;
  if (typeof headers.get === 'function') {
    value = (headers.get as (key: string) => unknown).call(headers, lower);
  } else {
    const record = headers as Record<string, unknown>;
    value = record[lower] ?? record[Object.keys(record).find((key) => key.toLowerCase() === lower) ?? ''];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function readNumber(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return undefined;
  return Number.parseFloat(trimmed);
}

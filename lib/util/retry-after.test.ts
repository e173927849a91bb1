import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, readHeader } from './retry-after.js';

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['retry-after-ms', { 'retry-after-ms': '1500' }, 1_500],
    ['retry-after seconds', { 'Retry-After': '2' }, 2_000],
    ['fractional seconds rounded up', { 'retry-after': '0.0015' }, 2],
    ["Feishu's gateway reset", { 'x-ogw-ratelimit-reset': '3' }, 3_000],
    ['an HTTP date', { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, 5_000],
    ['a date in the past', { 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }, 0],
  ])('reads %s', (_name, headers, expected) => {
    expect(parseRetryAfterMs(headers, now)).toBe(expected);
  });
  it('prefers retry-after-ms, then the gateway reset, then retry-after', () => {
    expect(parseRetryAfterMs({ 'retry-after': '9', 'x-ogw-ratelimit-reset': '4', 'retry-after-ms': '10' }, now)).toBe(
      10,
    );
    expect(parseRetryAfterMs({ 'retry-after': '9', 'x-ogw-ratelimit-reset': '4' }, now)).toBe(4_000);
  });
  it('is undefined for missing or unparseable values', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs({}, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after-ms': '-5' }, now)).toBeUndefined();
  });
  it('reads fetch Headers and axios-style getters', () => {
    expect(parseRetryAfterMs(new Headers({ 'Retry-After': '1' }), now)).toBe(1_000);
    expect(readHeader({ 'x-tt-logid': ['abc'] }, 'X-TT-LOGID')).toBe('abc');
    expect(readHeader({ 'content-length': 12 }, 'content-length')).toBe('12');
  });
});

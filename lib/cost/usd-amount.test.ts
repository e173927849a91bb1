import { describe, expect, it } from 'vitest';
import { formatUsd, parseUsdCents, usdToMicros } from './usd-amount.js';

describe('dollar amounts as integers', () => {
  it('reads what a person types as whole cents, without a float', () => {
    expect(parseUsdCents('2')).toBe(200);
    expect(parseUsdCents('2.5')).toBe(250);
    expect(parseUsdCents('$2.50')).toBe(250);
    expect(parseUsdCents(' 0.29 USD ')).toBe(29);
    // 0.29 * 100 is 28.999999999999996 in floating point; the digits are read as they are.
    expect(parseUsdCents('999999.29')).toBe(99_999_929);
    expect(parseUsdCents('0')).toBe(0);
  });

  it('refuses what is not an amount of cents', () => {
    for (const text of ['', 'five', '-1', '2.505', '1e3', '2,50', '1000000.01', '$']) {
      expect(parseUsdCents(text), text).toBeUndefined();
    }
  });

  it('writes micros as dollars and cents, with the rest only when there is one', () => {
    expect(formatUsd(2_500_000)).toBe('$2.50');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(10_000)).toBe('$0.01');
    expect(formatUsd(4_500)).toBe('$0.0045');
    expect(formatUsd(123_456_789_000)).toBe('$123456.789');
    expect(formatUsd(usdToMicros(0.1) + usdToMicros(0.2))).toBe('$0.30');
  });
});

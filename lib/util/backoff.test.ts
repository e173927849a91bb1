import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const options = { initialMs: 100, maxMs: 1_000 };
  it('doubles per failure up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((failures) => backoffDelay(failures, options))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
  it('honours another factor', () => {
    expect(backoffDelay(3, { ...options, factor: 3 })).toBe(900);
  });
  it('spreads by the jitter fraction and stays within [0, max]', () => {
    expect(backoffDelay(2, { ...options, jitter: 0.5, random: () => 0 })).toBe(100);
    expect(backoffDelay(2, { ...options, jitter: 0.5, random: () => 1 })).toBe(300);
    expect(backoffDelay(5, { ...options, jitter: 0.5, random: () => 1 })).toBe(1_000);
  });
});

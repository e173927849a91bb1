import { describe, expect, it } from 'vitest';
import { pageLimit } from './page-limit.js';

describe('pageLimit', () => {
  it.each([
    [undefined, 100],
    [Number.NaN, 100],
    [Number.POSITIVE_INFINITY, 100],
    [0, 100],
    [-5, 100],
    [1, 1],
    [7.9, 7],
    [1_000, 1_000],
    [50_000, 1_000],
  ])('turns %s into %s', (value, expected) => {
    expect(pageLimit(value)).toBe(expected);
  });

  it('takes its own fallback and ceiling', () => {
    expect(pageLimit(undefined, 10, 20)).toBe(10);
    expect(pageLimit(30, 10, 20)).toBe(20);
  });
});

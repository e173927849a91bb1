import { describe, expect, it } from 'vitest';
import { toText } from './to-text.js';

describe('toText', () => {
  it('keeps strings and writes other values as JSON', () => {
    expect(toText('plain')).toBe('plain');
    expect(toText({ code: 7, items: [1, 2] })).toBe('{"code":7,"items":[1,2]}');
    expect(toText(null)).toBe('null');
    expect(toText(42)).toBe('42');
  });
  it('falls back to String() where JSON has no answer', () => {
    expect(toText(undefined)).toBe('undefined');
    expect(toText(10n)).toBe('10');
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(toText(cyclic)).toBe('[object Object]');
  });
});

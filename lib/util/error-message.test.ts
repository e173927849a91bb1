import { describe, expect, it } from 'vitest';
import { errorMessage, toError } from './error-message.js';

describe('errorMessage / toError', () => {
  it('reads an Error message and stringifies anything else', () => {
    expect(errorMessage(new TypeError('bad'))).toBe('bad');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
  it('keeps an Error and wraps anything else with its context', () => {
    const error = new Error('x');
    expect(toError(error)).toBe(error);
    expect(toError('boom', 'store write').message).toBe('store write: boom');
    expect(toError(7).message).toBe('7');
  });
});

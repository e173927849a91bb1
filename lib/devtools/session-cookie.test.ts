import { describe, expect, it } from 'vitest';
import { checkSessionCookie, mintSessionCookie } from './session-cookie.js';

const TOKEN = 'a-devtools-token-of-at-least-32-characters';

describe('session cookie', () => {
  it('is valid until its expiry, then expired, and never holds the token', () => {
    const value = mintSessionCookie(TOKEN, 2_000);
    expect(value).not.toContain(TOKEN);
    expect(checkSessionCookie(value, TOKEN, 1_999)).toBe('valid');
    expect(checkSessionCookie(value, TOKEN, 2_000)).toBe('expired');
  });

  it('is invalid under another token, with an edited expiry, or malformed', () => {
    const value = mintSessionCookie(TOKEN, 2_000);
    expect(checkSessionCookie(value, `${TOKEN}-rotated`, 0)).toBe('invalid');
    expect(checkSessionCookie(value.replace('.2000.', '.9000.'), TOKEN, 0)).toBe('invalid');
    for (const malformed of ['', TOKEN, 'v1', 'v1.2000', `${value}.x`, 'v2.2000.abc', 'v1.-5.abc', 'v1.2e3.abc']) {
      expect([malformed, checkSessionCookie(malformed, TOKEN, 0)]).toEqual([malformed, 'invalid']);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createTokenCipher, parseTokenKey, TokenCipherError } from './token-cipher.js';

const KEY = parseTokenKey('0f'.repeat(32));

function failure(run: () => unknown): TokenCipherError {
  try {
    run();
  } catch (error) {
    if (TokenCipherError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a TokenCipherError');
}

describe('token cipher', () => {
  it('seals and opens, with a fresh nonce each time and no plaintext in the sealed value', () => {
    const cipher = createTokenCipher(KEY);
    const secret = '{"accessToken":"u-secret-token"}';
    const first = cipher.seal(secret, 'user:ou_a');
    const second = cipher.seal(secret, 'user:ou_a');
    expect(first).not.toBe(second);
    expect(first).not.toContain('secret');
    expect(cipher.open(first, 'user:ou_a')).toBe(secret);
  });

  it('refuses another context, a tampered value and another key, without saying what was inside', () => {
    const cipher = createTokenCipher(KEY);
    const sealed = cipher.seal('u-secret-token', 'user:ou_a');
    expect(failure(() => cipher.open(sealed, 'user:ou_b')).code).toBe('TOKEN_SEAL_INVALID');
    const parts = sealed.split('.');
    // Another first character (one that is 'A' already would leave the value untouched).
    const tag = parts[4] as string;
    parts[4] = `${tag.startsWith('A') ? 'B' : 'A'}${tag.slice(1)}`;
    expect(failure(() => cipher.open(parts.join('.'), 'user:ou_a')).message).not.toContain('u-secret');
    const other = createTokenCipher(parseTokenKey(Buffer.alloc(32, 7).toString('base64')));
    expect(failure(() => other.open(sealed, 'user:ou_a')).code).toBe('TOKEN_KEY_MISMATCH');
    expect(failure(() => cipher.open('plain', 'user:ou_a')).code).toBe('TOKEN_SEAL_INVALID');
  });

  it('takes 32-byte keys as hex or base64 only', () => {
    expect(parseTokenKey(Buffer.alloc(32, 1).toString('base64url'))).toHaveLength(32);
    expect(failure(() => parseTokenKey('correct horse battery staple')).code).toBe('TOKEN_KEY_INVALID');
    expect(failure(() => parseTokenKey('ab'.repeat(16))).code).toBe('TOKEN_KEY_INVALID');
  });
});

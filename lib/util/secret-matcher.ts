import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * A constant-time check against one secret, hashed once rather than on every request. Hashing
 * first gives equal lengths, which timingSafeEqual needs, without leaking the secret's length.
 *
 * @example
 * const matches = secretMatcher(config.notify.token);
 * if (!matches(bearerToken)) return c.json({ error: 'unauthorized' }, 401);
 */
export function secretMatcher(expected: string): (given: string | undefined) => boolean {
  const expectedHash = sha256(expected);
  return (given) => given !== undefined && timingSafeEqual(sha256(given), expectedHash);
}

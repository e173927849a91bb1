import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** What the server makes of a session cookie. */
export type SessionCheck = 'valid' | 'expired' | 'invalid';

const VERSION = 'v1';

/** The HMAC key: derived from the token, so rotating DEVTOOLS_TOKEN ends every session. */
function sessionKey(token: string): Buffer {
  return createHash('sha256').update(`feishu-bot-devtools-session\0${token}`).digest();
}

function signature(token: string, expiresAt: number): Buffer {
  return createHmac('sha256', sessionKey(token)).update(`${VERSION}.${expiresAt}`).digest();
}

/**
 * The value of the login cookie: its expiry and an HMAC over it, keyed by the token. The cookie
 * never holds the token, cannot be replayed as a Bearer header, and a copied cookie stops working
 * at its expiry whatever the browser does with `Max-Age`, because the server checks the time.
 *
 * @example
 * const value = mintSessionCookie(token, Date.now() + 12 * 3_600_000); // 'v1.1767225600000.…'
 * checkSessionCookie(value, token, Date.now()); // 'valid'
 */
export function mintSessionCookie(token: string, expiresAt: number): string {
  const at = Math.floor(expiresAt);
  return `${VERSION}.${at}.${signature(token, at).toString('base64url')}`;
}

/**
 * 'valid' while the signature matches and the expiry lies ahead; 'expired' for a genuine cookie
 * past its expiry (a browser that kept it is not a guesser); 'invalid' for anything else.
 */
export function checkSessionCookie(value: string, token: string, now: number): SessionCheck {
  const [version, expiry, mac, ...rest] = value.split('.');
  if (version !== VERSION || expiry === undefined || mac === undefined || rest.length > 0) return 'invalid';
  if (!/^\d{1,16}$/.test(expiry)) return 'invalid';
  const expiresAt = Number(expiry);
  const expected = signature(token, expiresAt);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return expiresAt > now ? 'valid' : 'expired';
}

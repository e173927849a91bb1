import { createHash, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { type AuthThrottle, createAuthThrottle, throttleClient } from './auth-throttle.js';
import { checkSessionCookie } from './session-cookie.js';

/** The HttpOnly cookie POST /devtools/api/login sets. */
export const DEVTOOLS_COOKIE = 'devtools_session';

/** Resolves the TCP peer address of a request, or undefined when there is no socket. */
export type RemoteAddressResolver = (c: Context) => string | undefined;

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Headers a reverse proxy adds. Their presence means the socket peer is the proxy, not the user. */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host', 'cf-connecting-ip'];

export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK_ADDRESSES.has(address);
}

/**
 * The socket's peer address from @hono/node-server. `app.request()` in tests has no socket,
 * so this answers undefined there (treated as NOT loopback: missing information never grants access).
 */
export const nodeRemoteAddress: RemoteAddressResolver = (c) => {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
};

/** Constant-time equality of two secrets of any length (compares their sha256 digests). */
export function secretsEqual(candidate: string, expected: string): boolean {
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * What a request presents: a valid Bearer token or session cookie, a genuine cookie past its
 * expiry, a wrong credential (a guess, counted by the throttle), or nothing.
 */
export type PresentedCredential = 'bearer' | 'cookie' | 'expired' | 'wrong' | 'none';

export function presentedCredential(c: Context, token: string, now: number): PresentedCredential {
  const bearer = c.req
    .header('authorization')
    ?.match(/^Bearer\s+(.+)$/i)?.[1]
    ?.trim();
  if (bearer !== undefined) return secretsEqual(bearer, token) ? 'bearer' : 'wrong';
  const cookie = getCookie(c, DEVTOOLS_COOKIE);
  if (cookie === undefined) return 'none';
  const session = checkSessionCookie(cookie, token, now);
  return session === 'valid' ? 'cookie' : session === 'expired' ? 'expired' : 'wrong';
}

export interface DevtoolsAuthOptions {
  /** DEVTOOLS_TOKEN; without one, only loopback requests get in (and only while bound to loopback). */
  token: string | undefined;
  remoteAddress?: RemoteAddressResolver;
  /**
   * Whether the server listens on a loopback address only. The loopback pass exists only then:
   * bound to a public address, a proxy, ssh tunnel or socat on this host delivers outsiders from
   * 127.0.0.1 without any header that would tell. Default: never.
   */
  boundToLoopback?: () => boolean;
  /** Counts wrong credentials per client; share it with the login route. */
  throttle?: AuthThrottle;
  /** Requests allowed without credentials (the login endpoint); loopback rules still apply without a token. */
  isPublic?: (c: Context) => boolean;
  now?: () => number;
}

/**
 * A loopback peer must also have asked for a loopback name: a web page whose DNS name was rebound
 * to 127.0.0.1 reaches us from the developer's own browser, same-origin, with a foreign Host.
 */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]' || name?.endsWith('.localhost') === true;
}

/**
 * The developer on their own machine: the server listens on loopback only, the peer is loopback,
 * the request names a loopback host and carries no reverse-proxy header (forwarded headers are
 * never trusted to grant access, only to withdraw this shortcut).
 */
export function hasLoopbackPass(
  c: Context,
  {
    remoteAddress = nodeRemoteAddress,
    boundToLoopback = () => false,
  }: Pick<DevtoolsAuthOptions, 'remoteAddress' | 'boundToLoopback'>,
): boolean {
  if (!boundToLoopback()) return false;
  if (PROXY_HEADERS.some((name) => c.req.header(name) !== undefined)) return false;
  return isLoopbackAddress(remoteAddress(c)) && isLoopbackHost(c.req.header('host'));
}

/** 429 with Retry-After, for a client that presented too many wrong credentials. */
export function tooManyAttempts(c: Context, retryAfterSeconds: number): Response {
  c.header('Retry-After', String(retryAfterSeconds));
  c.header('Cache-Control', 'no-store');
  return c.json(
    { error: 'too_many_attempts', message: 'Too many wrong tokens from this address; try again later' },
    429,
  );
}

/**
 * Middleware guarding every devtools route: the loopback pass (`hasLoopbackPass`), else
 * DEVTOOLS_TOKEN as a Bearer header or the login cookie. Every credential check is throttled per
 * client address. Refusals are 401 — JSON for the API, a minimal login form for a browser asking
 * for HTML (it works without scripts or styles, so it needs no asset that would itself be refused).
 *
 * @example
 * app.use('*', devtoolsAuth({ token: config.devtools.token, boundToLoopback: () => true,
 *   isPublic: (c) => c.req.path.endsWith('/api/login') }));
 */
export function devtoolsAuth({
  token,
  remoteAddress = nodeRemoteAddress,
  boundToLoopback,
  throttle = createAuthThrottle(),
  isPublic,
  now = Date.now,
}: DevtoolsAuthOptions): MiddlewareHandler {
  return async (c, next) => {
    if (hasLoopbackPass(c, { remoteAddress, boundToLoopback })) {
      await next();
      return;
    }
    const credential = token === undefined ? 'none' : presentedCredential(c, token, now());
    if (credential !== 'none') {
      const client = throttleClient(remoteAddress(c));
      const wait = throttle.retryAfterSeconds(client);
      if (wait > 0) return tooManyAttempts(c, wait);
      if (credential === 'bearer' || credential === 'cookie') {
        await next();
        return;
      }
      if (credential === 'wrong') throttle.recordFailure(client);
    }
    if (token !== undefined && isPublic?.(c)) {
      await next();
      return;
    }
    c.header('WWW-Authenticate', 'Bearer realm="devtools"');
    c.header('Cache-Control', 'no-store');
    if (c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html')) {
      return c.html(loginPage(token !== undefined), 401);
    }
    return c.json(
      {
        error: 'unauthorized',
        message:
          token === undefined
            ? 'Devtools answer loopback requests only (DEVTOOLS_TOKEN is not set)'
            : credential === 'expired'
              ? 'The devtools session expired: log in again'
              : 'Devtools need DEVTOOLS_TOKEN: send "Authorization: Bearer <token>" or log in',
      },
      401,
    );
  };
}

/**
 * Rejects state-changing requests made by another site (CSRF): a browser tells us through
 * `Sec-Fetch-Site`, and through `Origin`, which must then name this host.
 * Non-browser clients (curl with a Bearer token) send neither and pass.
 */
export function rejectCrossSite(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') {
      await next();
      return;
    }
    const fetchSite = c.req.header('sec-fetch-site');
    if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
      return c.json({ error: 'cross_site_request', message: `Refused a ${fetchSite} request` }, 403);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        originHost = origin === 'null' ? undefined : new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      const requestHost = c.req.header('host') ?? new URL(c.req.url).host;
      if (originHost === undefined || originHost !== requestHost) {
        return c.json({ error: 'cross_site_request', message: 'Origin does not match this host' }, 403);
      }
    }
    await next();
  };
}

function loginPage(tokenConfigured: boolean): string {
  const body = tokenConfigured
    ? `<form method="post" action="/devtools/api/login">
<label>Devtools token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form>`
    : '<p>Devtools answer requests from this machine only: DEVTOOLS_TOKEN is not set.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bot devtools: log in</title></head>
<body><h1>Bot devtools</h1>${body}</body></html>`;
}

import { CORE_CODES, fail, type Reply } from './reply.js';
import { HISTORY_LIMIT, hex, pushBounded } from './util.js';

/** Feishu hands out the same token again while it has at least this long to live. */
const TOKEN_REUSE_MIN_REMAINING_MS = 30 * 60 * 1000;

export interface TenantTokens {
  /** A token of app `appId` (default: the fake's first app) and its remaining lifetime in seconds, reusing a live one as Feishu does. */
  issue(appId?: string): { token: string; expire: number };
  /** The app whose token `authorization` bears (valid or not); undefined for none or an unknown one. */
  appOf(authorization: string | undefined): string | undefined;
  /** The error reply for a missing, unknown, expired or invalidated bearer token; undefined when it is good. */
  check(authorization: string | undefined): Reply | undefined;
  /** Every token issued so far stops working (99991663). */
  invalidate(): void;
  /** Tokens issued so far, oldest first. */
  issued(): string[];
  clear(): void;
}

interface IssuedToken {
  token: string;
  /** The app (app_id) it was issued to; undefined: the fake's first app. */
  appId: string | undefined;
  expiresAt: number;
  valid: boolean;
}

/**
 * The tenant access tokens the fake issued, with expiry on the fake's clock.
 *
 * @example
 * const tokens = createTenantTokens({ now: Date.now, expireSeconds: 7200, authErrorStatus: 400 });
 * const { token } = tokens.issue();
 * tokens.check(`Bearer ${token}`); // undefined: accepted
 */
export function createTenantTokens({
  now,
  expireSeconds,
  authErrorStatus,
}: {
  now: () => number;
  expireSeconds: number;
  authErrorStatus: number;
}): TenantTokens {
  let tokens: IssuedToken[] = [];
  return {
    issue(appId) {
      const at = now();
      const reusable = tokens.find(
        (token) => token.appId === appId && token.valid && token.expiresAt - at > TOKEN_REUSE_MIN_REMAINING_MS,
      );
      if (reusable) return { token: reusable.token, expire: Math.floor((reusable.expiresAt - at) / 1000) };
      const token: IssuedToken = { token: `t-${hex(20)}`, appId, expiresAt: at + expireSeconds * 1000, valid: true };
      pushBounded(tokens, token, HISTORY_LIMIT);
      return { token: token.token, expire: expireSeconds };
    },
    check(authorization) {
      if (!authorization) {
        return fail(
          CORE_CODES.missingAccessToken,
          'Missing access token for authorization. Please make a request with token attached.',
          authErrorStatus,
        );
      }
      const value = authorization.replace(/^Bearer\s+/i, '');
      const token = tokens.find((candidate) => candidate.token === value);
      if (!token?.valid || token.expiresAt <= now()) {
        return fail(
          CORE_CODES.invalidAccessToken,
          'Invalid access token for authorization. Please make a request with token attached.',
          authErrorStatus,
        );
      }
      return undefined;
    },
    appOf(authorization) {
      const value = (authorization ?? '').replace(/^Bearer\s+/i, '');
      return tokens.find((candidate) => candidate.token === value)?.appId;
    },
    invalidate() {
      for (const token of tokens) token.valid = false;
    },
    issued: () => tokens.map((token) => token.token),
    clear() {
      tokens = [];
    },
  };
}

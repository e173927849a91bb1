import { hex } from './util.js';

/**
 * User access tokens (`u-…`) the fake accepts, each standing for one user's authorization of the
 * app. Tests issue them directly; an OAuth area issues them from its token endpoint. A request
 * bearing one is served as that user (`FeishuRequest.caller`).
 *
 * @example
 * const token = fake.issueUserToken('ou_alice');
 * await client.task.v2.task.list({ params: { type: 'my_tasks' } }, lark.withUserAccessToken(token));
 */
export interface UserTokens {
  /** A new token for `openId`; with `ttlMs` it stops working that long after (on the fake's clock). */
  issue(openId: string, ttlMs?: number): string;
  /** The user a token stands for, or undefined when it is no (longer a) user token. */
  openIdFor(token: string): string | undefined;
  revoke(token: string): void;
  clear(): void;
}

/** Bound of tokens kept: old ones are forgotten (their holders get 99991663, as for an expired token). */
const MAX_USER_TOKENS = 1_000;

export function createUserTokens({ now = Date.now }: { now?: () => number } = {}): UserTokens {
  const tokens = new Map<string, { openId: string; expiresAt: number }>();
  return {
    issue(openId, ttlMs) {
      const token = `u-${hex(20)}`;
      tokens.set(token, { openId, expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs });
      if (tokens.size > MAX_USER_TOKENS) tokens.delete(tokens.keys().next().value as string);
      return token;
    },
    openIdFor(token) {
      const entry = tokens.get(token);
      return entry !== undefined && entry.expiresAt > now() ? entry.openId : undefined;
    },
    revoke(token) {
      tokens.delete(token);
    },
    clear() {
      tokens.clear();
    },
  };
}

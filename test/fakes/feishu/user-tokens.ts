import { hex } from './util.js';

/**
 * User access tokens (`u-…`) the fake accepts, each standing for one user's authorization of one
 * app: as on Feishu, a user token is issued to the app whose credentials obtained it, and every
 * call bearing it acts as that user through that app. Tests issue them directly; the OAuth area
 * issues them from its token endpoint. A request bearing one is served as that user
 * (`FeishuRequest.caller`, with the app it was issued to).
 *
 * @example
 * const token = fake.issueUserToken('ou_alice');
 * await client.task.v2.task.list({ params: { type: 'my_tasks' } }, lark.withUserAccessToken(token));
 */
/** Whom a user token stands for: the person, and the app (app_id) it was issued to. */
export interface UserTokenHolder {
  openId: string;
  /** Undefined: issued without naming an app (the fake's first app). */
  appId: string | undefined;
}

export interface UserTokens {
  /**
   * A new token for `openId`; with `ttlMs` it stops working that long after (on the fake's clock);
   * `appId` is the app it is issued to (default: none named, the fake's first app).
   */
  issue(openId: string, ttlMs?: number, appId?: string): string;
  /** The user a token stands for, or undefined when it is no (longer a) user token. */
  openIdFor(token: string): string | undefined;
  /** The user and app a token stands for, or undefined when it is no (longer a) user token. */
  holderOf(token: string): UserTokenHolder | undefined;
  revoke(token: string): void;
  clear(): void;
}

/** Bound of tokens kept: old ones are forgotten (their holders get 99991663, as for an expired token). */
const MAX_USER_TOKENS = 1_000;

export function createUserTokens({ now = Date.now }: { now?: () => number } = {}): UserTokens {
  const tokens = new Map<string, UserTokenHolder & { expiresAt: number }>();
  const holderOf = (token: string): UserTokenHolder | undefined => {
    const entry = tokens.get(token);
    return entry !== undefined && entry.expiresAt > now() ? { openId: entry.openId, appId: entry.appId } : undefined;
  };
  return {
    issue(openId, ttlMs, appId) {
      const token = `u-${hex(20)}`;
      tokens.set(token, {
        openId,
        appId,
        expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs,
      });
      if (tokens.size > MAX_USER_TOKENS) tokens.delete(tokens.keys().next().value as string);
      return token;
    },
    openIdFor: (token) => holderOf(token)?.openId,
    holderOf,
    revoke(token) {
      tokens.delete(token);
    },
    clear() {
      tokens.clear();
    },
  };
}

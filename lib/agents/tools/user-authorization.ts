import type { ConversationContext } from '../conversation-context.js';

/** What a user-identity tool asks for: whose token, for which tool and scopes, in which chat. */
export interface UserTokenRequest {
  /** open_id of the person asking. */
  userId: string;
  tool: string;
  scopes: readonly string[];
  /** Where the answer will be posted: an implementation may refuse group chats (privacy). */
  conversation: ConversationContext;
  signal?: AbortSignal;
}

/** Why no user token is available; the registry words the answer from it. */
export type UserTokenRefusal =
  /** The user never authorized the bot (or revoked it): offer to authorize. */
  | 'not-authorized'
  /** The authorization lacks some of the scopes: ask again for more. */
  | 'missing-scopes'
  /** Authorized, but not for use here (e.g. a group chat): offer a direct chat instead. */
  | 'not-allowed-here';

export type UserTokenResult =
  | { ok: true; accessToken: string }
  | {
      ok: false;
      reason: UserTokenRefusal;
      /** One sentence for the user, e.g. with a link or button text; the registry has a default per reason. */
      message?: string;
    };

/**
 * The seam through which a tool acting as the asking user gets that user's own Feishu access
 * token. The token is used for this one call and never logged, traced or stored by the tool.
 *
 * An implementation (OAuth with an encrypted token store) decides whether the user has
 * authorized, refreshes before expiry, and may refuse in group chats. Until one is wired, the
 * bot uses `notAuthorizedUserAuthorization`: user-identity tools then answer that they need the
 * user's authorization, which this deployment cannot ask for yet.
 *
 * @example
 * const result = await userAuthorization.tokenFor({ userId, tool: 'searchDocuments', scopes, conversation });
 * if (result.ok) await client.request(request, lark.withUserAccessToken(result.accessToken));
 */
export interface UserAuthorization {
  tokenFor(request: UserTokenRequest): Promise<UserTokenResult>;
}

/** No per-user authorization is configured: every request is refused as not authorized. */
export const notAuthorizedUserAuthorization: UserAuthorization = {
  async tokenFor() {
    return {
      ok: false,
      reason: 'not-authorized',
      message:
        'This needs your own Feishu authorization, and this bot cannot ask for it yet (per-user authorization is not set up). An administrator can enable it.',
    };
  },
};

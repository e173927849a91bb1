import type { UserAuthorization, UserTokenResult } from '../agents/tools/user-authorization.js';
import type { Language } from '../i18n/language.js';
import { appScoped } from '../inbox/app-scope.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import { sleep as defaultSleep } from '../util/sleep.js';
import type { AuthorizationRequests } from './authorization-requests.js';
import type { AuthorizePrompt } from './authorize-prompt.js';
import { AuthorizationRevokedError, type FeishuOAuthClient, type UserTokenSet } from './feishu-oauth-client.js';
import type { UserTokenVault } from './user-token-vault.js';

export interface FeishuUserAuthorization extends UserAuthorization {
  /** Forgets the person's tokens (`/logout`); true when there were any. */
  forget(userId: string): Promise<boolean>;
  /**
   * Forgets everything kept for a person who left the company (Feishu deleted the user): their
   * tokens and their pending authorizations, so a consent link sent earlier no longer binds.
   */
  forgetDeparted(userId: string): Promise<{ tokens: boolean; pending: number }>;
}

export interface FeishuUserAuthorizationOptions {
  /**
   * The app (its id in this process) whose people these are: its refresh locks are its own and
   * its events name it. Default: the default app.
   */
  app?: string;
  /** The app's own OAuth client: Feishu refreshes a token only with the credentials it was issued to. */
  oauth: FeishuOAuthClient;
  vault: UserTokenVault;
  requests: AuthorizationRequests;
  store: Pick<Store, 'claimKey' | 'releaseKey'>;
  /** Asked for on every authorization besides the tool's own, so the grant can be refreshed. */
  baseScopes?: readonly string[];
  /**
   * Whether content read with a person's own authorization may be answered in a group chat
   * (USER_AUTH_IN_GROUPS). Off: the bot says so and offers a direct chat.
   */
  allowInGroups?: boolean;
  /** Sends the Authorize card (to the person directly); failures only cost the card, the answer still says it. */
  prompt?: (prompt: AuthorizePrompt) => Promise<void>;
  /** Refresh this long before the access token expires. */
  refreshMarginMs?: number;
  /** How long another instance's refresh is waited for before giving up. */
  refreshWaitMs?: number;
  log?: Logger;
  /** Reports refreshes, revocations and logouts (`user-auth.changed`, never a token). */
  bus?: EventBus;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Per-person Feishu authorization behind the tools' `UserAuthorization` seam:
 * - never authorized (or logged out): starts an authorization and answers with a personal link;
 *   the Authorize card goes to the person directly;
 * - the grant lacks a tool's scopes: a new authorization asking for them too;
 * - the access token near expiry: refreshed once across every instance (a store lock, since
 *   Feishu's refresh tokens work once), the new refresh token stored before it is used;
 * - a refused refresh (revoked, expired): the tokens are dropped and the person asked again;
 * - a group chat, unless allowed: refused with an offer to answer in a direct chat.
 * Tokens never leave this module except as the one call's bearer.
 *
 * @example
 * const userAuthorization = createFeishuUserAuthorization({ oauth, vault, requests, store, prompt });
 * startBot(config, { userAuthorization });
 */
export function createFeishuUserAuthorization({
  app,
  oauth,
  vault,
  requests,
  store,
  baseScopes = ['offline_access'],
  allowInGroups = false,
  prompt,
  refreshMarginMs = 5 * 60_000,
  refreshWaitMs = 5_000,
  log,
  bus,
  now = Date.now,
  sleep = defaultSleep,
}: FeishuUserAuthorizationOptions): FeishuUserAuthorization {
  /** One refresh per person in this process; other instances are kept out by the store lock. */
  const refreshing = new Map<string, Promise<UserTokenSet | undefined>>();
  type Change = 'refreshed' | 'revoked' | 'logged-out' | 'departed';
  const changed = (userId: string, change: Change) =>
    bus?.emit({ type: 'user-auth.changed', userId, change, ...(app === undefined ? {} : { app }) });

  async function askToAuthorize(
    userId: string,
    scopes: readonly string[],
    tool: string,
    reason: 'not-authorized' | 'missing-scopes',
    language: Language | undefined,
  ): Promise<UserTokenResult> {
    const wanted = [...new Set([...baseScopes, ...scopes])];
    const { state, codeChallenge } = await requests.start(userId, wanted);
    const url = oauth.authorizationUrl({ state, codeChallenge, scopes: wanted });
    if (prompt !== undefined) {
      prompt({ userId, url, tools: [tool], key: state, ...(language === undefined ? {} : { language }) }).catch(
        (error: unknown) => {
          log?.warn({ err: error, tool }, 'could not send the Authorize card');
        },
      );
    }
    const why =
      reason === 'missing-scopes'
        ? 'this needs more of your Feishu permissions than you granted so far.'
        : 'this needs your own Feishu authorization.';
    return {
      ok: false,
      reason,
      message: `${why} [Authorize the bot](${url}) (I also sent you the button in a direct message; the link is yours alone and works for 10 minutes), then ask again.`,
    };
  }

  async function refreshOnce(userId: string, refreshToken: string): Promise<UserTokenSet | undefined> {
    // The default app's lock keeps its name: instances of the previous release still honour it.
    const lock = appScoped(app, `user-token-refresh:${userId}`);
    const deadline = now() + refreshWaitMs;
    while (!(await store.claimKey(lock, 30_000, now()))) {
      // Another instance refreshes: its new tokens land in the vault.
      if (now() > deadline) return undefined;
      await sleep(100);
      const current = await vault.load(userId);
      if (current !== undefined && current.refreshToken !== refreshToken) return current;
    }
    try {
      const latest = await vault.load(userId);
      // Refreshed by someone else between our read and the lock.
      if (latest !== undefined && latest.refreshToken !== refreshToken) return latest;
      const fresh = await oauth.refresh(refreshToken);
      await vault.save(userId, { ...fresh, refreshToken: fresh.refreshToken ?? refreshToken });
      changed(userId, 'refreshed');
      return fresh;
    } catch (error) {
      if (AuthorizationRevokedError.isInstance(error)) {
        await vault.remove(userId);
        changed(userId, 'revoked');
        return undefined;
      }
      throw error;
    } finally {
      await store.releaseKey(lock).catch(() => {});
    }
  }

  return {
    async tokenFor({ userId, tool, scopes, conversation }) {
      // The chat's own setting (its admins' `/config user-reads`) over the deployment's default.
      if (conversation.chatType === 'group' && !(conversation.userReadsInGroup ?? allowInGroups)) {
        return {
          ok: false,
          reason: 'not-allowed-here',
          message:
            'in group chats I do not answer with what only you can see. Ask me in a direct chat and I will read it with your authorization there.',
        };
      }
      let tokens: UserTokenSet | undefined = await vault.load(userId);
      if (tokens === undefined) return askToAuthorize(userId, scopes, tool, 'not-authorized', conversation.language);
      if (!scopes.every((scope) => tokens?.scopes.includes(scope))) {
        return askToAuthorize(userId, [...tokens.scopes, ...scopes], tool, 'missing-scopes', conversation.language);
      }
      if (tokens.expiresAt - refreshMarginMs <= now()) {
        const refreshToken = tokens.refreshToken;
        if (refreshToken === undefined || (tokens.refreshExpiresAt !== undefined && tokens.refreshExpiresAt <= now())) {
          await vault.remove(userId);
          return askToAuthorize(userId, scopes, tool, 'not-authorized', conversation.language);
        }
        let pending = refreshing.get(userId);
        if (pending === undefined) {
          pending = refreshOnce(userId, refreshToken).finally(() => refreshing.delete(userId));
          refreshing.set(userId, pending);
        }
        tokens = await pending;
        if (tokens === undefined) return askToAuthorize(userId, scopes, tool, 'not-authorized', conversation.language);
      }
      return { ok: true, accessToken: tokens.accessToken };
    },
    async forget(userId) {
      const had = (await vault.load(userId)) !== undefined;
      await vault.remove(userId);
      if (had) changed(userId, 'logged-out');
      return had;
    },
    async forgetDeparted(userId) {
      const tokens = (await vault.load(userId)) !== undefined;
      // Pending requests first: a callback landing meanwhile then finds no request to bind.
      const pending = await requests.forgetUser(userId);
      await vault.remove(userId);
      changed(userId, 'departed');
      return { tokens, pending };
    },
  };
}

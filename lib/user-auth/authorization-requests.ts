import * as oauth from 'oauth4webapi';
import type { Store } from '../store/store.js';

/** One started authorization: who asked, for which scopes, and the PKCE verifier. */
export interface AuthorizationRequest {
  userId: string;
  scopes: string[];
  codeVerifier: string;
  createdAt: number;
}

export interface AuthorizationRequests {
  /** Starts an authorization for `userId`; returns the state and PKCE challenge for the consent URL. */
  start(userId: string, scopes: readonly string[]): Promise<{ state: string; codeChallenge: string }>;
  /**
   * The request a callback's state names, once: a second use, an unknown state or one older than
   * the lifetime gives undefined.
   */
  take(state: string): Promise<AuthorizationRequest | undefined>;
  /** Drops every pending request of `userId` (the person left the company): their links stop working. */
  forgetUser(userId: string): Promise<number>;
}

export interface AuthorizationRequestsOptions {
  store: Pick<Store, 'putRecord' | 'getRecord' | 'claimKey'>;
  appId: string;
  /** How long a consent link works (Feishu's code itself lives 5 minutes). */
  lifetimeMs?: number;
  /** Requests kept; the oldest beyond it are forgotten (their links stop working). */
  maxPending?: number;
  now?: () => number;
}

const COLLECTION = 'oauth-requests';
/** Each person's recent states, so their pending requests can be dropped together. */
const BY_USER = 'oauth-requests-by-user';
/** States remembered per person: more pending links than this at once is not a real person. */
const MAX_STATES_PER_USER = 20;

/**
 * Pending authorizations in the store, so the callback may reach any instance, also after a
 * restart. The state is random (oauth4webapi), the PKCE verifier never leaves the server, and a
 * state is claimed once through the store, so a replayed callback cannot bind a second code.
 *
 * @example
 * const { state, codeChallenge } = await requests.start('ou_alice', ['offline_access', 'search:docs:read']);
 */
export function createAuthorizationRequests({
  store,
  appId,
  lifetimeMs = 10 * 60_000,
  maxPending = 10_000,
  now = Date.now,
}: AuthorizationRequestsOptions): AuthorizationRequests {
  const idOf = (state: string) => `${appId}:${state}`;
  const statesOf = async (userId: string): Promise<string[]> => {
    const record = (await store.getRecord(BY_USER, idOf(userId))) as { states?: unknown } | null;
    return Array.isArray(record?.states) ? record.states.filter((state) => typeof state === 'string') : [];
  };
  return {
    async start(userId, scopes) {
      const state = oauth.generateRandomState();
      const codeVerifier = oauth.generateRandomCodeVerifier();
      const request: AuthorizationRequest = { userId, scopes: [...new Set(scopes)], codeVerifier, createdAt: now() };
      // The index first: a request it does not name could not be forgotten with its person.
      const states = [...(await statesOf(userId)), state].slice(-MAX_STATES_PER_USER);
      await store.putRecord(BY_USER, idOf(userId), { states }, maxPending);
      await store.putRecord(COLLECTION, idOf(state), request, maxPending);
      return { state, codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier) };
    },
    async take(state) {
      if (!/^[\w-]{16,128}$/.test(state)) return undefined;
      const request = (await store.getRecord(COLLECTION, idOf(state))) as AuthorizationRequest | null;
      if (request === null || now() - request.createdAt > lifetimeMs) return undefined;
      if (!(await store.claimKey(`oauth-state:${idOf(state)}`, lifetimeMs * 2, now()))) return undefined;
      await store.putRecord(COLLECTION, idOf(state), null, maxPending);
      return request;
    },
    async forgetUser(userId) {
      let forgotten = 0;
      for (const state of await statesOf(userId)) {
        const request = (await store.getRecord(COLLECTION, idOf(state))) as AuthorizationRequest | null;
        if (request === null || request.userId !== userId) continue;
        await store.putRecord(COLLECTION, idOf(state), null, maxPending);
        forgotten += 1;
      }
      await store.putRecord(BY_USER, idOf(userId), null, maxPending);
      return forgotten;
    },
  };
}

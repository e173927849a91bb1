import type { Store } from '../store/store.js';
import type { UserTokenSet } from './feishu-oauth-client.js';
import type { TokenCipher } from './token-cipher.js';

/** A user's tokens as kept: sealed at rest, opened only to make that user's calls. */
export interface StoredUserTokens extends UserTokenSet {
  savedAt: number;
}

export interface UserTokenVault {
  save(openId: string, tokens: UserTokenSet): Promise<void>;
  /** The user's tokens, or undefined when none are kept (never authorized, logged out, unreadable). */
  load(openId: string): Promise<StoredUserTokens | undefined>;
  remove(openId: string): Promise<void>;
}

export interface UserTokenVaultOptions {
  store: Pick<Store, 'putRecord' | 'getRecord'>;
  cipher: TokenCipher;
  /** Separates apps sharing a store. */
  appId: string;
  /** People whose tokens are kept; the least recently saved beyond it are dropped (they authorize again). */
  maxUsers?: number;
  now?: () => number;
  /** A record that does not open (key rotated, tampered) is dropped and reported here. */
  onUnreadable?: (openId: string, error: unknown) => void;
}

const COLLECTION = 'user-tokens';

/**
 * Each person's Feishu tokens in the store, sealed with TOKEN_ENCRYPTION_KEY and bound to that
 * person (a record copied to another id does not open). A removed record is overwritten with
 * `null`, so the tokens are gone from the store, not only hidden.
 *
 * @example
 * const vault = createUserTokenVault({ store, cipher, appId });
 * await vault.save('ou_alice', tokens);
 */
export function createUserTokenVault({
  store,
  cipher,
  appId,
  maxUsers = 50_000,
  now = Date.now,
  onUnreadable = () => {},
}: UserTokenVaultOptions): UserTokenVault {
  const idOf = (openId: string) => `${appId}:${openId}`;
  const context = (openId: string) => `feishu-user-token:${appId}:${openId}`;
  return {
    async save(openId, tokens) {
      const stored: StoredUserTokens = { ...tokens, savedAt: now() };
      const sealed = cipher.seal(JSON.stringify(stored), context(openId));
      await store.putRecord(COLLECTION, idOf(openId), { sealed }, maxUsers);
    },
    async load(openId) {
      const record = (await store.getRecord(COLLECTION, idOf(openId))) as { sealed?: unknown } | null;
      if (record === null || typeof record.sealed !== 'string') return undefined;
      try {
        return JSON.parse(cipher.open(record.sealed, context(openId))) as StoredUserTokens;
      } catch (error) {
        onUnreadable(openId, error);
        return undefined;
      }
    },
    async remove(openId) {
      await store.putRecord(COLLECTION, idOf(openId), null, maxUsers);
    },
  };
}

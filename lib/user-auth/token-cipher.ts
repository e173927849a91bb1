import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A sealed token cannot be opened: wrong key, another user's record, or tampered bytes. */
export class TokenCipherError extends Error {
  readonly code: 'TOKEN_KEY_INVALID' | 'TOKEN_KEY_MISMATCH' | 'TOKEN_SEAL_INVALID';
  constructor(code: TokenCipherError['code'], message: string) {
    super(message);
    this.name = 'TokenCipherError';
    this.code = code;
  }

  static isInstance(error: unknown): error is TokenCipherError {
    return error instanceof Error && error.name === 'TokenCipherError';
  }
}

/**
 * TOKEN_ENCRYPTION_KEY as 32 bytes: 64 hex characters or base64 / base64url of 32 bytes
 * (`openssl rand -hex 32`). Anything else is refused: a short key would be guessable, and a
 * passphrase is not a key.
 */
export function parseTokenKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new TokenCipherError(
      'TOKEN_KEY_INVALID',
      'TOKEN_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)',
    );
  }
  return key;
}

export interface TokenCipher {
  /** Encrypts `plaintext`, bound to `context` (e.g. the user's id) so a record moved to another user fails to open. */
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

const VERSION = 'v1';

/**
 * AES-256-GCM (node:crypto) with a fresh 96-bit nonce per seal and the context as associated
 * data. A sealed value is `v1.<key id>.<nonce>.<tag>.<ciphertext>` (base64url); the key id (a
 * hash prefix of the key, not the key) tells a rotated key apart from a corrupted record.
 *
 * @example
 * const cipher = createTokenCipher(parseTokenKey(config.userAuth.tokenKey));
 * const sealed = cipher.seal(JSON.stringify(tokens), `user:${openId}`);
 */
export function createTokenCipher(key: Buffer): TokenCipher {
  if (key.length !== 32) throw new TokenCipherError('TOKEN_KEY_INVALID', 'the token key must be 32 bytes');
  const keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  return {
    seal(plaintext, context) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        VERSION,
        keyId,
        nonce.toString('base64url'),
        tag.toString('base64url'),
        ciphertext.toString('base64url'),
      ].join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== VERSION) {
        throw new TokenCipherError('TOKEN_SEAL_INVALID', 'not a sealed token');
      }
      const [, sealedKeyId, nonce, tag, ciphertext] = parts as [string, string, string, string, string];
      if (sealedKeyId !== keyId) {
        throw new TokenCipherError('TOKEN_KEY_MISMATCH', 'sealed with another TOKEN_ENCRYPTION_KEY');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        // Never the cause: it says nothing useful and must not carry plaintext fragments.
        throw new TokenCipherError('TOKEN_SEAL_INVALID', 'the sealed token does not open (tampered or another user)');
      }
    },
  };
}

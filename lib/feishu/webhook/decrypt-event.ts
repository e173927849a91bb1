import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Stable reasons an `encrypt` body is refused. */
export type DecryptErrorCode =
  /** Not a string of strict base64, or not IV + whole AES blocks. */
  | 'DECRYPT_MALFORMED'
  /** Wrong key, bad padding, not UTF-8, or not JSON. */
  | 'DECRYPT_FAILED';

export type DecryptResult = { ok: true; value: unknown } | { ok: false; code: DecryptErrorCode; detail: string };

const BLOCK = 16;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** AES-256 key Feishu uses: sha256 of the encrypt key as configured in the console. */
export function deriveKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/**
 * Decrypts the `encrypt` field of a Feishu event or card callback: base64(iv ‖ AES-256-CBC
 * ciphertext), key sha256(encryptKey), PKCS#7 padding, JSON inside. Never throws: bad input is
 * a result with a stable code, so the route answers 400 instead of 500.
 *
 * We do not use the SDK's `AESCipher` here: `Buffer.from(x, 'base64')` silently skips
 * non-base64 characters, it decodes invalid UTF-8 lossily, and it throws untyped errors
 * (see docs/ingress.md).
 *
 * @example
 * const result = decryptEvent(body.encrypt, encryptKey);
 * if (!result.ok) return c.json({ error: result.code }, 400);
 */
export function decryptEvent(encrypted: unknown, encryptKey: string): DecryptResult {
  if (typeof encrypted !== 'string' || !STRICT_BASE64.test(encrypted)) {
    return { ok: false, code: 'DECRYPT_MALFORMED', detail: 'encrypt is not a base64 string' };
  }
  const bytes = Buffer.from(encrypted, 'base64');
  if (bytes.length < 2 * BLOCK || bytes.length % BLOCK !== 0) {
    return { ok: false, code: 'DECRYPT_MALFORMED', detail: `encrypt is ${bytes.length} bytes, not IV + whole blocks` };
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', deriveKey(encryptKey), bytes.subarray(0, BLOCK));
    plain = Buffer.concat([decipher.update(bytes.subarray(BLOCK)), decipher.final()]);
  } catch {
    return { ok: false, code: 'DECRYPT_FAILED', detail: 'bad padding: wrong key or corrupted ciphertext' };
  }
  let text: string;
  try {
    text = strictUtf8.decode(plain);
  } catch {
    return { ok: false, code: 'DECRYPT_FAILED', detail: 'plaintext is not UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, code: 'DECRYPT_FAILED', detail: 'plaintext is not JSON' };
  }
}

/**
 * The inverse, as Feishu does it: for test senders and fakes.
 *
 * @example
 * const body = JSON.stringify({ encrypt: encryptEvent({ type: 'url_verification', challenge: 'c' }, key) });
 */
export function encryptEvent(payload: unknown, encryptKey: string, iv: Buffer = randomBytes(BLOCK)): string {
  const cipher = createCipheriv('aes-256-cbc', deriveKey(encryptKey), iv);
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final()]).toString('base64');
}

import { createCipheriv, createDecipheriv, createHash, type Decipher, randomBytes } from 'node:crypto';

/** Stable reasons an `encrypt` body is refused. */
export type DecryptErrorCode =
  /** Not a string of strict base64, or not IV + whole AES blocks. */
  | 'DECRYPT_MALFORMED'
  /** Wrong key, bad padding, not UTF-8, or not JSON. */
  | 'DECRYPT_FAILED';

export type DecryptResult = { ok: true; value: unknown } | { ok: false; code: DecryptErrorCode; detail: string };

const BLOCK = 16;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** AES-256 key Feishu uses: sha256 of the encrypt key as configured in the console. */
export function deriveKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/**
 * An AES-256-ECB decipher for the last key seen, kept across events (a process has one encrypt
 * key). Creating a CBC decipher per event cost more than the decryption itself: OpenSSL looks the
 * cipher up and expands the key every time (docs/performance.md). Block by block, CBC decryption
 * is ECB decryption XOR the previous ciphertext block, so decryptEvent does that XOR and the
 * PKCS#7 check itself. With padding off, ECB keeps no state between whole-block calls.
 */
let blockDecipher: { encryptKey: string; decipher: Decipher } | undefined;
function decipherFor(encryptKey: string): Decipher {
  if (blockDecipher?.encryptKey !== encryptKey) {
    const decipher = createDecipheriv('aes-256-ecb', deriveKey(encryptKey), null);
    decipher.setAutoPadding(false);
    blockDecipher = { encryptKey, decipher };
  }
  return blockDecipher.decipher;
}

/** The message without its PKCS#7 padding, or undefined when the padding is not valid. */
function unpad(plain: Buffer): Buffer | undefined {
  const padding = plain[plain.length - 1] ?? 0;
  if (padding < 1 || padding > BLOCK) return undefined;
  for (let index = plain.length - padding; index < plain.length - 1; index += 1) {
    if (plain[index] !== padding) return undefined;
  }
  return plain.subarray(0, plain.length - padding);
}

/**
 * Strict base64 (padded, canonical): `Buffer.from` silently skips characters that are not
 * base64, so what it decoded must encode back to exactly the input. Linear, unlike the
 * equivalent regular expression, which cost more than the decryption itself.
 */
function decodeStrictBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
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
  const bytes = typeof encrypted === 'string' ? decodeStrictBase64(encrypted) : undefined;
  if (bytes === undefined) {
    return { ok: false, code: 'DECRYPT_MALFORMED', detail: 'encrypt is not a base64 string' };
  }
  if (bytes.length < 2 * BLOCK || bytes.length % BLOCK !== 0) {
    return { ok: false, code: 'DECRYPT_MALFORMED', detail: `encrypt is ${bytes.length} bytes, not IV + whole blocks` };
  }
  const ciphertext = bytes.subarray(BLOCK);
  const plain = decipherFor(encryptKey).update(ciphertext);
  if (plain.length !== ciphertext.length) {
    // Cannot happen with whole blocks and padding off; if it did, the decipher holds a partial
    // block that would corrupt the next event, so it is dropped.
    blockDecipher = undefined;
    return { ok: false, code: 'DECRYPT_FAILED', detail: 'the block cipher returned a partial result' };
  }
  // CBC: each plaintext block is the deciphered block XOR the ciphertext block before it (the IV
  // for the first), which is `bytes` one block behind.
  for (let index = 0; index < plain.length; index += 1) plain[index] = (plain[index] ?? 0) ^ (bytes[index] ?? 0);
  const message = unpad(plain);
  if (message === undefined) {
    return { ok: false, code: 'DECRYPT_FAILED', detail: 'bad padding: wrong key or corrupted ciphertext' };
  }
  let text: string;
  try {
    text = strictUtf8.decode(message);
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
 * The inverse, as Feishu does it: for test senders, fakes and the doctor's URL-verification probe.
 *
 * @example
 * const body = JSON.stringify({ encrypt: encryptEvent({ type: 'url_verification', challenge: 'c' }, key) });
 */
export function encryptEvent(payload: unknown, encryptKey: string, iv: Buffer = randomBytes(BLOCK)): string {
  const cipher = createCipheriv('aes-256-cbc', deriveKey(encryptKey), iv);
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final()]).toString('base64');
}

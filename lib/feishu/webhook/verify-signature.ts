import { createHash, timingSafeEqual } from 'node:crypto';

/** Stable reasons a signed webhook request is refused (logged, counted, shown in devtools). */
export type SignatureErrorCode = 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'TIMESTAMP_STALE';

export type SignatureCheck = { ok: true } | { ok: false; code: SignatureErrorCode };

export interface SignatureHeaders {
  /** `x-lark-request-timestamp`: epoch seconds as a decimal string. */
  timestamp: string | undefined;
  /** `x-lark-request-nonce`. */
  nonce: string | undefined;
  /** `x-lark-signature`: lower-case hex sha256. */
  signature: string | undefined;
}

export interface VerifySignatureOptions extends SignatureHeaders {
  encryptKey: string;
  /** The request body exactly as received: re-serialised JSON would hash differently. */
  rawBody: Uint8Array;
  /** How old (or how far in the future) a timestamp may be, in seconds. */
  maxSkewSeconds: number;
  /** Epoch ms; tests move it. */
  now?: number;
}

/**
 * The signature Feishu puts in `x-lark-signature`: hex sha256(timestamp + nonce + encryptKey + body).
 *
 * @example
 * const signature = computeSignature({ timestamp: '1700000000', nonce: 'n', encryptKey, rawBody });
 */
export function computeSignature({
  timestamp,
  nonce,
  encryptKey,
  rawBody,
}: {
  timestamp: string;
  nonce: string;
  encryptKey: string;
  rawBody: Uint8Array;
}): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey, 'utf8')
    .update(rawBody)
    .digest('hex');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const EPOCH_SECONDS = /^\d{1,12}$/;

/**
 * Checks a webhook request's signature over its RAW body, in constant time, and refuses a
 * timestamp outside ±maxSkewSeconds so a captured request cannot be replayed later.
 * The timestamp is checked after the signature so an attacker learns nothing from the order.
 *
 * @example
 * const check = verifySignature({ ...headers, encryptKey, rawBody, maxSkewSeconds: 300 });
 * if (!check.ok) return c.json({ error: check.code }, 401);
 */
export function verifySignature({
  timestamp,
  nonce,
  signature,
  encryptKey,
  rawBody,
  maxSkewSeconds,
  now = Date.now(),
}: VerifySignatureOptions): SignatureCheck {
  if (!timestamp || nonce === undefined || !signature) return { ok: false, code: 'SIGNATURE_MISSING' };
  if (!HEX_SHA256.test(signature)) return { ok: false, code: 'SIGNATURE_INVALID' };
  const expected = Buffer.from(computeSignature({ timestamp, nonce, encryptKey, rawBody }), 'hex');
  const given = Buffer.from(signature, 'hex');
  // Both are 32 bytes here (the regex above), which timingSafeEqual requires.
  if (!timingSafeEqual(expected, given)) return { ok: false, code: 'SIGNATURE_INVALID' };
  if (!EPOCH_SECONDS.test(timestamp)) return { ok: false, code: 'TIMESTAMP_STALE' };
  const skewSeconds = Math.abs(now / 1000 - Number(timestamp));
  if (skewSeconds > maxSkewSeconds) return { ok: false, code: 'TIMESTAMP_STALE' };
  return { ok: true };
}

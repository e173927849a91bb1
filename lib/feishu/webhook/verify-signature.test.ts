import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeSignature, verifySignature } from './verify-signature.js';

const encryptKey = 'test-encrypt-key';
const rawBody = new TextEncoder().encode('{"encrypt":"abc","unicode":"你好"}');
const nowMs = 1_700_000_000_000;
const timestamp = String(nowMs / 1000);
const nonce = 'nonce-1';

function signed(overrides: Partial<Parameters<typeof verifySignature>[0]> = {}) {
  const signature = computeSignature({ timestamp, nonce, encryptKey, rawBody });
  return verifySignature({
    timestamp,
    nonce,
    signature,
    encryptKey,
    rawBody,
    maxSkewSeconds: 300,
    now: nowMs,
    ...overrides,
  });
}

describe('verifySignature', () => {
  it('computes Feishu’s formula: hex sha256(timestamp + nonce + key + raw bytes)', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(timestamp + nonce + encryptKey), Buffer.from(rawBody)]))
      .digest('hex');
    expect(computeSignature({ timestamp, nonce, encryptKey, rawBody })).toBe(expected);
  });

  it('accepts a correct signature within the skew', () => {
    expect(signed()).toEqual({ ok: true });
    expect(signed({ now: nowMs + 299_000 })).toEqual({ ok: true });
  });

  it('rejects missing headers', () => {
    expect(signed({ signature: undefined })).toEqual({ ok: false, code: 'SIGNATURE_MISSING' });
    expect(signed({ timestamp: undefined })).toEqual({ ok: false, code: 'SIGNATURE_MISSING' });
    expect(signed({ nonce: undefined })).toEqual({ ok: false, code: 'SIGNATURE_MISSING' });
  });

  it('rejects a signature over other bytes, another key, or of the wrong shape', () => {
    const other = new TextEncoder().encode('{"encrypt":"abd","unicode":"你好"}');
    expect(signed({ rawBody: other })).toEqual({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(signed({ encryptKey: 'another-key' })).toEqual({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(signed({ signature: 'zz' })).toEqual({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(signed({ signature: 'a'.repeat(64) })).toEqual({ ok: false, code: 'SIGNATURE_INVALID' });
  });

  it('rejects a correctly signed but stale or future timestamp', () => {
    expect(signed({ now: nowMs + 301_000 })).toEqual({ ok: false, code: 'TIMESTAMP_STALE' });
    expect(signed({ now: nowMs - 301_000 })).toEqual({ ok: false, code: 'TIMESTAMP_STALE' });
  });

  it('rejects a non-numeric timestamp even when the signature matches it', () => {
    const odd = 'yesterday';
    const signature = computeSignature({ timestamp: odd, nonce, encryptKey, rawBody });
    expect(signed({ timestamp: odd, signature })).toEqual({ ok: false, code: 'TIMESTAMP_STALE' });
  });
});

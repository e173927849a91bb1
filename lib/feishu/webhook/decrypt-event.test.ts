import { AESCipher } from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { decryptEvent, encryptEvent } from './decrypt-event.js';

const key = 'kudryavka-key';
const payload = { schema: '2.0', header: { event_id: 'e1' }, event: { text: '你好 world' } };

describe('decryptEvent', () => {
  it('round-trips with encryptEvent and matches the SDK’s AESCipher', () => {
    const encrypted = encryptEvent(payload, key);
    expect(decryptEvent(encrypted, key)).toEqual({ ok: true, value: payload });
    expect(JSON.parse(new AESCipher(key).decrypt(encrypted))).toEqual(payload);
  });

  it('reports a malformed encrypt field instead of throwing', () => {
    for (const bad of [undefined, 42, '', 'not base64!!', 'AAAA', Buffer.alloc(16).toString('base64')]) {
      const result = decryptEvent(bad, key);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.code).toBe('DECRYPT_MALFORMED');
    }
  });

  it('accepts only strict base64: no skipped characters, no missing padding, no stray bits', () => {
    const valid = encryptEvent(payload, key);
    expect(decryptEvent(valid, key)).toEqual({ ok: true, value: payload });
    const middle = valid.length / 2;
    const variants = {
      // Buffer.from(…, 'base64') would silently skip each of these and decrypt the rest.
      newline: `${valid.slice(0, middle)}\n${valid.slice(middle)}`,
      space: `${valid.slice(0, middle)} ${valid.slice(middle)}`,
      invalidCharacter: `${valid.slice(0, middle)}*${valid.slice(middle + 1)}`,
      urlSafeAlphabet: valid.replaceAll('+', '-').replaceAll('/', '_'),
      // 'QR==' decodes like 'QQ==' but is not what an encoder writes.
      strayBits: `${Buffer.alloc(32).toString('base64').slice(0, -2)}R=`,
    };
    for (const [name, variant] of Object.entries(variants)) {
      if (variant === valid) continue;
      expect(decryptEvent(variant, key), name).toMatchObject({ ok: false, code: 'DECRYPT_MALFORMED' });
    }
  });

  it('reports truncated ciphertext (not whole blocks) as malformed', () => {
    const encrypted = Buffer.from(encryptEvent(payload, key), 'base64');
    const truncated = encrypted.subarray(0, encrypted.length - 5).toString('base64');
    expect(decryptEvent(truncated, key)).toMatchObject({ ok: false, code: 'DECRYPT_MALFORMED' });
  });

  it('reports a wrong key or corrupted blocks as a failed decryption', () => {
    const encrypted = encryptEvent(payload, key);
    expect(decryptEvent(encrypted, 'wrong-key')).toMatchObject({ ok: false, code: 'DECRYPT_FAILED' });
    const bytes = Buffer.from(encrypted, 'base64');
    const dropLastBlock = bytes.subarray(0, bytes.length - 16).toString('base64');
    expect(decryptEvent(dropLastBlock, key)).toMatchObject({ ok: false, code: 'DECRYPT_FAILED' });
  });

  it('reports valid ciphertext of something that is not JSON', () => {
    expect(decryptEvent(encryptEvent('not json', key), key)).toMatchObject({ ok: false, code: 'DECRYPT_FAILED' });
  });
});

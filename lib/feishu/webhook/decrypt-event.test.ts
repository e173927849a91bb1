import { createCipheriv, createHash, randomBytes } from 'node:crypto';
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

  it('decrypts exactly as AES-256-CBC does, for every padding length and across key changes', () => {
    const keys = ['key-one', 'key-two'];
    for (let length = 0; length <= 70; length += 1) {
      // Alternating keys: the cached block decipher must follow the key it is asked for.
      const keyInUse = keys[length % 2]!;
      const text = JSON.stringify('é'.repeat(length % 3) + 'x'.repeat(length));
      const encrypted = encryptEvent(text, keyInUse);
      expect(decryptEvent(encrypted, keyInUse), `length ${length}`).toEqual({ ok: true, value: JSON.parse(text) });
      expect(JSON.parse(new AESCipher(keyInUse).decrypt(encrypted))).toEqual(JSON.parse(text));
    }
  });

  it('refuses every malformed PKCS#7 padding, and a refusal leaves the next event unharmed', () => {
    /**
     * CBC-encrypts JSON with `padding` appended by hand (no automatic padding). The filler is
     * spaces, which JSON allows, so only the padding check can refuse what a wrong strip leaves.
     */
    const withPadding = (padding: number[]) => {
      const body = Buffer.from('{"a":1}');
      const filler = Buffer.alloc(16 - ((body.length + padding.length) % 16), ' ');
      const plain = Buffer.concat([body, filler, Buffer.from(padding)]);
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
      cipher.setAutoPadding(false);
      return Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString('base64');
    };
    const bad = {
      zero: [0],
      beyondABlock: [17],
      inconsistent: [3, 2, 3],
      shortRun: [4, 4, 4],
    };
    for (const [name, padding] of Object.entries(bad)) {
      expect(decryptEvent(withPadding(padding), key), name).toMatchObject({ ok: false, code: 'DECRYPT_FAILED' });
      expect(decryptEvent(encryptEvent(payload, key), key), `after ${name}`).toEqual({ ok: true, value: payload });
    }
  });
});

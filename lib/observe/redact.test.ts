import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from './redact.js';

describe('createRedactor', () => {
  const redact = createRedactor([
    'app-secret-value',
    'encrypt-key-value',
    'verification-token',
    'devtools-token-0123456789abcdef',
  ]);

  it.each([
    ['a configured secret verbatim', 'failed with app-secret-value in the url', 'app-secret-value'],
    ['a secret inside a word', 'x=encrypt-key-valueZ', 'encrypt-key-value'],
    ['a devtools token', 'cookie devtools-token-0123456789abcdef', 'devtools-token-0123456789abcdef'],
    ['an OpenAI key', 'Incorrect API key provided: sk-proj-abcdEFGH1234', 'sk-proj-abcdEFGH1234'],
    ['a short sk- key', 'key sk-12345678 refused', 'sk-12345678'],
    ['a bearer token', 'Authorization: Bearer eyJhbGciOi.abc.def', 'eyJhbGciOi.abc.def'],
    [
      'a tenant access token',
      'token t-g1044ghJRUIJJ5ELPPVYBZWHB2E5NSBCW4AXO2W6 expired',
      't-g1044ghJRUIJJ5ELPPVYBZWHB2E5NSBCW4AXO2W6',
    ],
    ['a user access token', 'u-5Ls1Zw0zx0Xbj1oZuYkLDb0k7y3w1hdN', 'u-5Ls1Zw0zx0Xbj1oZuYkLDb0k7y3w1hdN'],
    ['an app access token', 'a-32bf2ed6a21cf3ae0d7cc5ce1b9e4d1c', 'a-32bf2ed6a21cf3ae0d7cc5ce1b9e4d1c'],
    ['a query parameter', 'GET /x?access_token=abc123&y=1', 'abc123'],
    ['a JSON field', '{"refresh_token": "r-abc-123"}', 'r-abc-123'],
    ['a client secret pair', 'client_secret=hunter2', 'hunter2'],
    ['a password pair', "password: 'p@ss'", 'p@ss'],
  ])('removes %s', (_name, text, secret) => {
    const result = redact(text);
    expect(result).not.toContain(secret);
    expect(result).toContain(REDACTED);
  });

  it('keeps ordinary text, ids and token counts', () => {
    const text =
      'om_dc13264520392913993dd051dba21dcf in oc_a0553eda9014c201e6969b478895c230: 1200 inputTokens, t-shirt';
    expect(redact(text)).toBe(text);
  });

  it('removes a secret that contains another secret whole', () => {
    const nested = createRedactor(['abcd', 'abcdefgh-long-secret']);
    expect(nested('x abcdefgh-long-secret y')).toBe(`x ${REDACTED} y`);
  });

  it('ignores configured secrets shorter than four characters', () => {
    expect(createRedactor(['ab'])('about a cab')).toBe('about a cab');
  });
});

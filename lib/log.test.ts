import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from './log.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines with level, time and message', () => {
    const output = capture();
    const log = createLogger({ destination: output.stream, pretty: false });
    log.info({ chatId: 'oc_1' }, 'accepted');
    const line = JSON.parse(output.text().trim()) as Record<string, unknown>;
    expect(line.msg).toBe('accepted');
    expect(line.chatId).toBe('oc_1');
    expect(line.level).toBe(30);
    expect(typeof line.time).toBe('string');
  });

  it('redacts secret fields by name', () => {
    const output = capture();
    const log = createLogger({ destination: output.stream, pretty: false });
    log.info({ appSecret: 'abc-secret', config: { apiKey: 'sk-123456' }, headers: { authorization: 'Bearer t' } }, 'x');
    const text = output.text();
    expect(text).not.toContain('abc-secret');
    expect(text).not.toContain('sk-123456');
    expect(text).not.toContain('Bearer t');
    expect(text).toContain('[Redacted]');
  });

  it('scrubs secret values wherever they appear, also in messages and stacks', () => {
    const output = capture();
    const secret = 'super-secret-app-key-42';
    const log = createLogger({ destination: output.stream, pretty: false, secrets: [secret] });
    log.error({ err: new Error(`token ${secret} rejected`) }, `calling with ${secret}`);
    const text = output.text();
    expect(text).not.toContain(secret);
    expect(text.match(/\[Redacted\]/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('scrubs secrets from pretty output too', () => {
    const output = capture();
    const log = createLogger({ destination: output.stream, pretty: true, secrets: ['pretty-secret-1'] });
    log.info('value pretty-secret-1 here');
    expect(output.text()).toContain('value [Redacted] here');
  });

  it('scrubs credential shapes nobody configured, such as a user access token', () => {
    const output = capture();
    const log = createLogger({ destination: output.stream, pretty: false });
    const userToken = `u-${'7Kq2'.repeat(8)}`;
    const providerKey = `sk-${'abcdEFGH1234'.repeat(2)}`;
    log.warn({ detail: `refresh failed for ${userToken}` }, `provider said: invalid key ${providerKey}`);
    const text = output.text();
    expect(text).not.toContain(userToken);
    expect(text).not.toContain(providerKey);
    expect(text.match(/\[Redacted\]/g)?.length).toBe(2);
    expect(JSON.parse(text.trim())).toMatchObject({ level: 40 });
  });
});

describe('resolveLogFormat', () => {
  it('follows LOG_FORMAT when set, else pretty only on a terminal', () => {
    expect(resolveLogFormat(undefined, { isTTY: true })).toBe('pretty');
    expect(resolveLogFormat(undefined, { isTTY: false })).toBe('json');
    expect(resolveLogFormat(undefined, {})).toBe('json');
    expect(resolveLogFormat('json', { isTTY: true })).toBe('json');
    expect(resolveLogFormat('pretty', { isTTY: false })).toBe('pretty');
  });
});

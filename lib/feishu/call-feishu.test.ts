import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFeishu, FEISHU_CODES, startFakeFeishu } from '../../test/fakes/fake-feishu.js';
import { silentLogger } from '../log.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { parseRetryAfterMs } from '../util/retry-after.js';
import { callFeishu, evictTenantToken, FeishuApiError, toFeishuApiError } from './call-feishu.js';
import { createFeishuClient } from './feishu-client.js';

function recordingBus() {
  const bus = createEventBus();
  const events: BotEvent[] = [];
  bus.subscribe((event) => events.push(event));
  return { bus, events };
}

/** What axios throws for a non-2xx answer (the SDK rethrows it unchanged). */
function axiosError(status: number, data: unknown, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`Request failed with status code ${status}`), {
    isAxiosError: true,
    response: { status, data, headers },
  });
}

describe('callFeishu', () => {
  it('returns the body of a successful call and reports it', async () => {
    const { bus, events } = recordingBus();
    const body = await callFeishu(bus, 'im.v1.message.reply', async () => ({ code: 0, msg: 'ok', data: { id: 1 } }));
    expect(body.data.id).toBe(1);
    expect(events).toEqual([
      expect.objectContaining({ type: 'feishu.api', api: 'im.v1.message.reply', outcome: 'ok' }),
    ]);
  });

  it('turns an HTTP-200 body with code ≠ 0 into a FeishuApiError; 230020 counts as rate-limited', async () => {
    const { bus, events } = recordingBus();
    const failing = callFeishu(bus, 'im.v1.message.reply', async () => ({ code: 230020, msg: 'frequency limit' }));
    const error = await failing.catch((thrown: unknown) => thrown);
    expect(FeishuApiError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 230020, httpStatus: undefined, rateLimited: true, transient: true });
    expect(events).toEqual([expect.objectContaining({ outcome: 'rate-limited', code: 230020 })]);

    const permission = await callFeishu(bus, 'x', async () => ({ code: 99991672, msg: 'denied' })).catch((e) => e);
    expect(permission).toMatchObject({ code: 99991672, rateLimited: false, transient: false });
    expect(events.at(-1)).toMatchObject({ outcome: 'error', code: 99991672 });
  });

  it('reads code, status and the rate-limit reset from a thrown axios error', async () => {
    const { bus } = recordingBus();
    const thrown = axiosError(429, { code: 99991400, msg: 'too many' }, { 'x-ogw-ratelimit-reset': '2' });
    const error = await callFeishu(bus, 'cardkit.v1.cardElement.content', async () => {
      throw thrown;
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 99991400, httpStatus: 429, retryAfterMs: 2000, rateLimited: true });
    expect((error as Error).cause).toBe(thrown);
  });

  it('treats 5xx and network errors as transient, and other errors as permanent', () => {
    expect(toFeishuApiError('a', axiosError(503, 'Service Unavailable')).transient).toBe(true);
    const reset = Object.assign(new Error('socket hang up'), { isAxiosError: true, code: 'ECONNRESET' });
    expect(toFeishuApiError('a', reset)).toMatchObject({ network: true, transient: true, code: undefined });
    expect(toFeishuApiError('a', new TypeError('bug')).transient).toBe(false);
    expect(toFeishuApiError('a', axiosError(400, { code: 230001, msg: 'bad' })).transient).toBe(false);
  });

  it('times out a call that does not answer', async () => {
    const { bus, events } = recordingBus();
    const error = await callFeishu(bus, 'slow', () => new Promise<{ code: number }>(() => {}), { timeoutMs: 20 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ timedOut: true, transient: true });
    expect(events.at(-1)).toMatchObject({ outcome: 'error' });
  });

  it('isInstance recognises only FeishuApiError', () => {
    expect(FeishuApiError.isInstance(new Error('x'))).toBe(false);
    expect(FeishuApiError.isInstance({ code: 1 })).toBe(false);
    expect(FeishuApiError.isInstance(new FeishuApiError({ api: 'a', message: 'm', code: 1 }))).toBe(true);
  });
});

describe('parseRetryAfterMs', () => {
  it('prefers x-ogw-ratelimit-reset, then retry-after seconds or date, and reads AxiosHeaders-style getters', () => {
    expect(parseRetryAfterMs({ 'x-ogw-ratelimit-reset': '3', 'retry-after': '9' })).toBe(3000);
    expect(parseRetryAfterMs({ 'retry-after': '1.5' })).toBe(1500);
    expect(parseRetryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4_000)).toBe(6000);
    expect(parseRetryAfterMs({ get: (name: string) => (name === 'x-ogw-ratelimit-reset' ? '1' : undefined) })).toBe(
      1000,
    );
    expect(parseRetryAfterMs({})).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after': 'soon' })).toBeUndefined();
  });
});

describe('token refresh with the real SDK against the fake Feishu', () => {
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = await startFakeFeishu();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('on 99991663 evicts the cached tenant token, fetches a new one and retries once', async () => {
    const client = createFeishuClient({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.url,
      log: silentLogger(),
    });
    const { bus, events } = recordingBus();
    const info = () =>
      client.request<{ code?: number; msg?: string }>({ method: 'GET', url: '/open-apis/bot/v3/info' });
    await callFeishu(bus, 'bot.v3.info', info, { client });
    expect(fake.issuedTokens()).toHaveLength(1);

    fake.invalidateTokens();
    await callFeishu(bus, 'bot.v3.info', info, { client });
    expect(fake.issuedTokens()).toHaveLength(2);
    expect(events.map((event) => event.type === 'feishu.api' && event.outcome)).toEqual(['ok', 'error', 'ok']);
    expect(fake.callsTo('bot.info').map((call) => call.code)).toEqual([0, FEISHU_CODES.invalidAccessToken, 0]);

    // Without a client to refresh, the error reaches the caller.
    fake.invalidateTokens();
    await expect(callFeishu(bus, 'bot.v3.info', info)).rejects.toMatchObject({ tokenInvalid: true });
    await evictTenantToken(client);
    await callFeishu(bus, 'bot.v3.info', info);
    expect(fake.issuedTokens()).toHaveLength(3);
  });

  it("the SDK's own error log never contains the bearer token", async () => {
    const lines: string[] = [];
    // A bare pino logger (no scrubbing stream), so the test sees exactly what the SDK logger hands on.
    const log = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url, log });
    fake.inject({ api: 'bot.info', times: 1, status: 400, code: 230001, msg: 'bad request' });
    const { bus } = recordingBus();
    await expect(
      callFeishu(bus, 'bot.v3.info', () => client.request({ method: 'GET', url: '/open-apis/bot/v3/info' })),
    ).rejects.toMatchObject({ code: 230001 });
    expect(lines.join('\n')).toContain('status=400 code=230001 msg=bad request');
    expect(lines.join('\n')).not.toMatch(/Bearer|t-[0-9a-f]{10}/);
  });
});

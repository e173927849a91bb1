import { describe, expect, it } from 'vitest';
import { FeishuApiError } from '../call-feishu.js';
import { resolveRetryPolicy, retryDelayFor, withRetries } from './retry-policy.js';

const policy = resolveRetryPolicy({ initialMs: 100, maxMs: 1_000, jitter: 0, maxRetries: 3, maxRetryAfterMs: 5_000 });
const serverError = () => new FeishuApiError({ api: 'im.v1.message.reply', message: 'HTTP 502', httpStatus: 502 });
const permanent = () => new FeishuApiError({ api: 'im.v1.message.reply', message: 'bad', code: 230001 });
const rateLimited = (retryAfterMs?: number) =>
  new FeishuApiError({
    api: 'cardkit.v1.cardElement.content',
    message: 'too many',
    code: 230020,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

describe('resolveRetryPolicy', () => {
  it('fills in the defaults', () => {
    expect(resolveRetryPolicy()).toEqual({
      initialMs: 500,
      maxMs: 8_000,
      factor: 2,
      maxRetries: 8,
      maxRetryAfterMs: 30_000,
      jitter: 0.1,
    });
  });
});

describe('retryDelayFor', () => {
  it('doubles the delay for transient errors up to maxMs', () => {
    expect([1, 2, 3].map((failures) => retryDelayFor(serverError(), failures, policy))).toEqual([100, 200, 400]);
    expect(retryDelayFor(serverError(), 3, { ...policy, maxMs: 300 })).toBe(300);
  });

  it('gives up on permanent errors, non-Feishu errors and after maxRetries', () => {
    expect(retryDelayFor(permanent(), 1, policy)).toBeUndefined();
    expect(retryDelayFor(new Error('bug'), 1, policy)).toBeUndefined();
    expect(retryDelayFor(serverError(), 4, policy)).toBeUndefined();
  });

  it('waits as long as a rate limit asks, at least initialMs and at most maxRetryAfterMs', () => {
    expect(retryDelayFor(rateLimited(2_500), 1, policy)).toBe(2_500);
    expect(retryDelayFor(rateLimited(10), 1, policy)).toBe(100);
    expect(retryDelayFor(rateLimited(60_000), 1, policy)).toBe(5_000);
    expect(retryDelayFor(rateLimited(), 2, policy)).toBe(200);
  });

  it('spreads delays by the jitter without exceeding maxMs', () => {
    const jittery = { ...policy, jitter: 0.5 };
    for (let run = 0; run < 50; run++) {
      const delay = retryDelayFor(serverError(), 2, jittery)!;
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(300);
      expect(retryDelayFor(serverError(), 3, jittery)!).toBeLessThanOrEqual(policy.maxMs);
    }
  });
});

describe('withRetries', () => {
  it('retries transient failures after the policy delay, then returns the result', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw serverError();
        return 'ok';
      },
      { policy, sleep: async (ms) => void slept.push(ms) },
    );
    expect(result).toBe('ok');
    expect(slept).toEqual([100, 200]);
  });

  it('rethrows a permanent failure at once and the last transient one when retries run out', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    await expect(withRetries(async () => Promise.reject(permanent()), { policy, sleep })).rejects.toThrow('bad');
    expect(slept).toEqual([]);
    await expect(withRetries(async () => Promise.reject(serverError()), { policy, sleep })).rejects.toThrow('HTTP 502');
    expect(slept).toEqual([100, 200, 400]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  assessConditions,
  type HealthStatus,
  type HealthThresholds,
  judge,
  type PreviousJudgement,
  type WindowFigures,
} from './health-rules.js';

const AT = Date.UTC(2026, 0, 1, 3, 0, 0);

const thresholds: HealthThresholds = {
  windowSeconds: 300,
  degradedErrorRate: 0.2,
  unhealthyErrorRate: 0.5,
  degradedRateLimits: 5,
  minCalls: 5,
  degradedP95Ms: 60_000,
  recoveryFactor: 0.75,
  recoveryDwellMs: 30_000,
};

/** A quiet window at AT, with the given figures changed. */
function window(changes: Partial<WindowFigures> = {}): WindowFigures {
  return {
    at: AT,
    calls: 0,
    errors: 0,
    p95: 0,
    answered: 0,
    failedDeliveries: 0,
    rateLimits: 0,
    consecutiveFailures: 0,
    lastFailureAt: Number.NEGATIVE_INFINITY,
    connection: 'off',
    reconnects: 0,
    ...changes,
  };
}

describe('assessConditions', () => {
  it.each<[string, Partial<WindowFigures>, number, HealthStatus, string[]]>([
    ['a quiet window', {}, 1, 'healthy', []],
    ['one failed call at 3 a.m. (below the minimum volume)', { calls: 1, errors: 1 }, 1, 'healthy', []],
    [
      'an unbroken run of minCalls failures',
      { calls: 3_000, errors: 5, consecutiveFailures: 5, lastFailureAt: AT - 1_000 },
      1,
      'unhealthy',
      ['last 5 agent calls all failed'],
    ],
    [
      'a failure run that ended a window ago',
      { consecutiveFailures: 5, lastFailureAt: AT - 300_000 },
      1,
      'healthy',
      [],
    ],
    [
      'a 60 % error rate',
      { calls: 20, errors: 12 },
      1,
      'unhealthy',
      ['60% of 20 calls failed in 300 s (unhealthy at 50%)'],
    ],
    [
      'a 20 % error rate',
      { calls: 20, errors: 4 },
      1,
      'degraded',
      ['20% of 20 calls failed in 300 s (degraded at 20%)'],
    ],
    ['a 15 % error rate', { calls: 20, errors: 3 }, 1, 'healthy', []],
    [
      'a 16 % error rate against the recovery margin',
      { calls: 25, errors: 4 },
      0.75,
      'degraded',
      ['16% of 25 calls failed in 300 s (degraded at 15%)'],
    ],
    [
      'a slow p95 with enough calls',
      { calls: 5, p95: 60_000 },
      1,
      'degraded',
      ['p95 latency 60000 ms in 300 s (degraded at 60000 ms)'],
    ],
    ['a slow p95 with too few calls', { calls: 4, p95: 90_000 }, 1, 'healthy', []],
    ['rate limits at the threshold', { rateLimits: 5 }, 1, 'degraded', ['5 rate limits in 300 s (degraded at 5)']],
    ['rate limits below it', { rateLimits: 4 }, 1, 'healthy', []],
    [
      'rate limits against the recovery margin',
      { rateLimits: 4 },
      0.75,
      'degraded',
      ['4 rate limits in 300 s (degraded at 4)'],
    ],
    [
      'answers that never reach anyone',
      { calls: 6, answered: 0, failedDeliveries: 6 },
      1,
      'unhealthy',
      ['6 of 6 messages failed to get an answer in 300 s'],
    ],
    [
      'a fifth of messages unanswered',
      { answered: 16, failedDeliveries: 4 },
      1,
      'degraded',
      ['4 of 20 messages failed to get an answer in 300 s'],
    ],
    [
      'a failed long connection',
      { connection: 'failed', reconnects: 3 },
      1,
      'unhealthy',
      ['Feishu long connection failed: no events can arrive'],
    ],
    [
      'a reconnecting long connection',
      { connection: 'reconnecting', reconnects: 2 },
      1,
      'degraded',
      ['Feishu long connection reconnecting (2 reconnects)'],
    ],
    [
      'unhealthy and degraded conditions together, unhealthy first',
      { connection: 'failed', rateLimits: 6 },
      1,
      'unhealthy',
      ['Feishu long connection failed: no events can arrive', '6 rate limits in 300 s (degraded at 5)'],
    ],
  ])('%s', (_name, figures, factor, status, reasons) => {
    expect(assessConditions(window(figures), thresholds, factor)).toEqual({ status, reasons });
  });
});

describe('judge (hysteresis)', () => {
  const outage = { calls: 20, errors: 12 };
  const quiet = {};
  const slightlyHigh = { calls: 100, errors: 18 }; // clear of 20 %, not of 15 %
  const rateLimited = { rateLimits: 5 };
  it.each<
    [
      string,
      PreviousJudgement,
      Partial<WindowFigures>,
      Partial<typeof thresholds>,
      HealthStatus,
      RegExp[],
      object | undefined,
    ]
  >([
    ['gets worse at once', { status: 'healthy' }, outage, {}, 'unhealthy', [/60% of 20 calls/], undefined],
    ['stays as it is', { status: 'degraded' }, rateLimited, {}, 'degraded', [/5 rate limits/], undefined],
    [
      'holds while conditions have not cleared by the margin',
      { status: 'degraded' },
      slightlyHigh,
      {},
      'degraded',
      [/18% of 100 calls failed .*degraded at 15%/, /holding degraded: .*recovery margin \(thresholds × 0.75\)/],
      undefined,
    ],
    [
      'starts the recovery hold once clear by the margin, saying what it waits for',
      { status: 'unhealthy' },
      quiet,
      {},
      'unhealthy',
      [
        /^recovering: holding unhealthy until conditions stay clear for 30 s \(0 s so far\); healthy at 2026-01-01T03:00:30.000Z unless they get worse$/,
      ],
      { clearSince: { healthy: AT, degraded: AT } },
    ],
    [
      'keeps holding during the hold',
      { status: 'unhealthy', recovery: { clearSince: { healthy: AT - 29_000, degraded: AT - 29_000 } } },
      quiet,
      {},
      'unhealthy',
      [/\(29 s so far\); healthy at 2026-01-01T03:00:01.000Z/],
      { clearSince: { healthy: AT - 29_000, degraded: AT - 29_000 } },
    ],
    [
      'gets better straight to healthy once clear for the hold',
      { status: 'unhealthy', recovery: { clearSince: { healthy: AT - 30_000, degraded: AT - 30_000 } } },
      quiet,
      {},
      'healthy',
      [],
      undefined,
    ],
    [
      'improves one step when only the worse condition cleared',
      { status: 'unhealthy', recovery: { clearSince: { degraded: AT - 30_000 } } },
      rateLimited,
      {},
      'degraded',
      [/5 rate limits/],
      undefined,
    ],
    [
      'drops the healthy clock when a lesser condition returns, keeping the degraded one',
      { status: 'unhealthy', recovery: { clearSince: { healthy: AT - 10_000, degraded: AT - 10_000 } } },
      rateLimited,
      {},
      'unhealthy',
      [/5 rate limits/, /recovering: holding unhealthy .*\(10 s so far\); degraded at/],
      { clearSince: { degraded: AT - 10_000 } },
    ],
    [
      'a step to degraded keeps the clock healthy has been running, and says what it waits for',
      { status: 'unhealthy', recovery: { clearSince: { healthy: AT - 12_000, degraded: AT - 30_000 } } },
      quiet,
      {},
      'degraded',
      [
        /^recovering: holding degraded until conditions stay clear for 30 s \(12 s so far\); healthy at 2026-01-01T03:00:18.000Z/,
      ],
      { clearSince: { healthy: AT - 12_000 } },
    ],
    [
      'drops a pending recovery when conditions get bad again',
      { status: 'unhealthy', recovery: { clearSince: { healthy: AT - 20_000, degraded: AT - 20_000 } } },
      outage,
      {},
      'unhealthy',
      [/60% of 20 calls/],
      undefined,
    ],
    [
      'improves at once without a hold',
      { status: 'degraded' },
      quiet,
      { recoveryDwellMs: 0 },
      'healthy',
      [],
      undefined,
    ],
  ])('%s', (_name, previous, figures, overrides, status, reasons, recovery) => {
    const judgement = judge(window(figures), { ...thresholds, ...overrides }, previous);
    expect(judgement.status).toBe(status);
    expect(judgement.reasons).toEqual(reasons.map((pattern) => expect.stringMatching(pattern)));
    expect(judgement.recovery).toEqual(recovery);
  });

  it('needs no state beyond the judgement it returned', () => {
    let last: PreviousJudgement = { status: 'healthy' };
    const statuses: HealthStatus[] = [];
    for (const [offset, figures] of [
      [0, outage],
      [1_000, quiet],
      [20_000, quiet],
      [31_000, quiet],
    ] as const) {
      last = judge(window({ ...figures, at: AT + offset }), thresholds, last);
      statuses.push(last.status);
    }
    expect(statuses).toEqual(['unhealthy', 'unhealthy', 'unhealthy', 'healthy']);
  });

  it('says why it got better, for the status-change log line', () => {
    const judgement = judge(window({ at: AT }), thresholds, {
      status: 'unhealthy',
      recovery: { clearSince: { healthy: AT - 31_000, degraded: AT - 31_000 } },
    });
    expect(judgement).toMatchObject({ status: 'healthy', reasons: [] });
    expect(judgement.improvement).toBe(
      'conditions clear by the recovery margin (thresholds × 0.75) for 31 s, the 30 s hold',
    );
  });
});

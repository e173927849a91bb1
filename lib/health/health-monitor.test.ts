import { describe, expect, it } from 'vitest';
import { seededRandom as random } from '../../test/support/seeded-random.js';
import { createEventBus } from '../observe/event-bus.js';
import {
  attachHealthMonitor,
  HealthMonitor,
  type HealthMonitorOptions,
  healthOptionsFromConfig,
  type StatusChange,
} from './health-monitor.js';
import { LATENCY_BUCKET_RATIO } from './latency-histogram.js';
import { sanitiseErrorMessage } from './sanitise-error-message.js';

/** A monitor on a clock the test moves by hand. */
function setup(options: HealthMonitorOptions = {}) {
  const clock = { now: Date.UTC(2026, 0, 1, 3, 0, 0) };
  const changes: StatusChange[] = [];
  const monitor = new HealthMonitor({
    now: () => clock.now,
    onStatusChange: (change) => changes.push(change),
    ...options,
  });
  const advance = (ms: number) => {
    clock.now += ms;
  };
  return { monitor, clock, advance, changes };
}

describe('HealthMonitor per-agent figures', () => {
  it('reports the contract fields with counts, latency and last call', () => {
    const { monitor, clock, advance } = setup();
    monitor.trackAgentCall('manager', 100, 'success');
    advance(1_000);
    monitor.trackAgentCall('manager', 300, 'error');
    monitor.trackAgentCall('search', 50, 'success');
    const snapshot = monitor.snapshot();
    expect(snapshot.window.seconds).toBe(300);
    const manager = snapshot.agents.manager!;
    expect(manager).toMatchObject({ callCount: 2, successCount: 1, errorCount: 1, errorRate: 0.5, avgLatency: 200 });
    expect(manager.lastCall).toBe(new Date(clock.now).toISOString());
    expect(manager.p50Latency).toBeGreaterThanOrEqual(100 / LATENCY_BUCKET_RATIO);
    expect(manager.p50Latency).toBeLessThanOrEqual(100 * LATENCY_BUCKET_RATIO);
    expect(manager.p99Latency).toBeLessThanOrEqual(300);
    expect(manager.maxLatency).toBe(300);
    for (const field of ['avgLatency', 'p95Latency', 'lastCall', 'callCount', 'successCount', 'errorCount']) {
      expect(manager).toHaveProperty(field);
    }
    expect(snapshot.agents.search?.callCount).toBe(1);
    expect(snapshot.calls).toMatchObject({ total: 3, errors: 1 });
  });

  it('folds agent names beyond the cap into "other"', () => {
    const { monitor } = setup({ maxAgents: 8 });
    for (let index = 0; index < 20; index++) monitor.trackAgentCall(`specialist-${index}`, 10, 'success');
    monitor.trackAgentCall('x'.repeat(200), 10, 'success');
    const agents = monitor.snapshot().agents;
    expect(Object.keys(agents)).toHaveLength(8);
    expect(agents.other?.callCount).toBe(20 - 7 + 1);
    expect(agents['specialist-0']?.callCount).toBe(1);
  });

  it('rejects a latency that is not a finite number and an unknown outcome, recording nothing', () => {
    const { monitor } = setup();
    expect(() => monitor.trackAgentCall('manager', Number.NaN, 'success')).toThrow(TypeError);
    expect(() => monitor.trackAgentCall('manager', Number.POSITIVE_INFINITY, 'success')).toThrow(/finite/);
    expect(() => monitor.trackAgentCall('manager', 5, 'maybe' as 'success')).toThrow(/outcome/);
    expect(monitor.snapshot().calls.total).toBe(0);
  });

  it('counts a negative latency (clock step) as 0 ms', () => {
    const { monitor } = setup();
    monitor.trackAgentCall('manager', -20, 'success');
    expect(monitor.snapshot().agents.manager).toMatchObject({ callCount: 1, avgLatency: 0, maxLatency: 0 });
  });
});

describe('HealthMonitor sliding window', () => {
  it('ages an old burst of errors out of the window', () => {
    const { monitor, advance } = setup({ recoveryDwellMs: 10_000 });
    for (let index = 0; index < 20; index++) monitor.trackAgentCall('manager', 200, 'error');
    for (let index = 0; index < 20; index++) monitor.trackError('TIMEOUT', 'model timed out');
    expect(monitor.snapshot().status).toBe('unhealthy');
    expect(monitor.snapshot().errors).toMatchObject({ total: 20, timeouts: 20 });

    advance(150_000);
    expect(monitor.snapshot().errors.total).toBe(20);
    advance(151_000);
    const later = monitor.snapshot();
    expect(later.errors.total).toBe(0);
    expect(later.agents.manager?.callCount).toBe(0);
    expect(later.calls.total).toBe(0);
    // The failure streak ended in silence a window ago: history, not an outage. Recovery then dwells.
    advance(10_000);
    expect(monitor.snapshot().status).toBe('healthy');
  });

  it('lets a million old successes not hide an outage now', () => {
    const { monitor, advance } = setup();
    for (let second = 0; second < 300; second++) {
      for (let call = 0; call < 10; call++) monitor.trackAgentCall('manager', 900, 'success');
      advance(1_000);
    }
    expect(monitor.snapshot().status).toBe('healthy');
    const statuses: string[] = [];
    for (let call = 0; call < 5; call++) {
      monitor.trackAgentCall('manager', 30_000, 'error');
      statuses.push(monitor.status().status);
      advance(1_000);
    }
    // Unhealthy at the fifth failed call (minCalls), although the window holds ~3000 successes.
    expect(statuses).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'unhealthy']);
    expect(monitor.snapshot().reasons.join(' ')).toMatch(/last 5 agent calls all failed/);
  });

  it('does not call one failure at 3 a.m. unhealthy (minimum call volume)', () => {
    const { monitor } = setup();
    monitor.trackAgentCall('manager', 1_000, 'error');
    monitor.trackError('NETWORK', 'socket hang up');
    const snapshot = monitor.snapshot();
    expect(snapshot.status).toBe('healthy');
    expect(snapshot.errors.total).toBe(1);
    expect(snapshot.lastError).toMatchObject({ category: 'NETWORK', message: 'socket hang up' });
  });

  it('becomes unhealthy at a sustained 60 % error rate without an unbroken streak', () => {
    const { monitor, advance } = setup();
    const pattern = ['error', 'error', 'success', 'error', 'success'] as const;
    for (let round = 0; round < 4; round++) {
      for (const outcome of pattern) {
        monitor.trackAgentCall('manager', 500, outcome);
        advance(2_000);
      }
    }
    const snapshot = monitor.snapshot();
    expect(snapshot.calls.errorRate).toBeCloseTo(0.6, 5);
    expect(snapshot.status).toBe('unhealthy');
    expect(snapshot.reasons[0]).toMatch(/60% of 20 calls failed in 300 s/);
  });

  it('never calls 5 % background errors unhealthy, at steady traffic for an hour', () => {
    const { monitor, advance } = setup();
    const next = random(42);
    const seen = new Set<string>();
    let errors = 0;
    for (let second = 0; second < 3_600; second++) {
      const failed = next() < 0.05;
      if (failed) errors++;
      monitor.trackAgentCall('manager', 800 + next() * 400, failed ? 'error' : 'success');
      if (failed) monitor.trackError('NETWORK', 'connection reset');
      seen.add(monitor.status().status);
      advance(1_000);
    }
    expect(errors).toBeGreaterThan(100);
    expect(seen).toEqual(new Set(['healthy']));
  });
});

describe('HealthMonitor status rules and hysteresis', () => {
  it('degrades on rate-limit pressure and reports the remaining quota', () => {
    const { monitor } = setup();
    for (let index = 0; index < 4; index++) monitor.trackRateLimit('gpt-4o-mini', 2_000, 10);
    expect(monitor.snapshot().status).toBe('healthy');
    monitor.trackRateLimit('gpt-4o-mini', 3_000, 0);
    const snapshot = monitor.snapshot();
    expect(snapshot.status).toBe('degraded');
    expect(snapshot.reasons.join(' ')).toMatch(/5 rate limits in 300 s/);
    expect(snapshot.errors.rateLimits).toBe(5);
    expect(snapshot.rateLimits.byModel['gpt-4o-mini']).toMatchObject({ count: 5, retryAfterMs: 3_000, remaining: 0 });
  });

  it('counts a rate limit that is both signalled and a failed call once', () => {
    const { monitor } = setup();
    monitor.trackRateLimit('gpt-4o-mini', 1_000);
    monitor.trackError('RATE_LIMIT', '429 Too Many Requests');
    expect(monitor.snapshot().errors).toMatchObject({ rateLimits: 1, total: 1, other: 0 });
  });

  it('degrades on p95 latency with enough calls', () => {
    const { monitor } = setup({ degradedP95Ms: 10_000 });
    for (let index = 0; index < 10; index++) monitor.trackAgentCall('manager', 15_000, 'success');
    const snapshot = monitor.snapshot();
    expect(snapshot.status).toBe('degraded');
    expect(snapshot.reasons[0]).toMatch(/p95 latency/);
  });

  it('follows the Feishu long connection: failed is unhealthy, reconnecting is degraded', () => {
    const { monitor } = setup({ recoveryDwellMs: 0 });
    monitor.setConnectionState('connected', 0);
    expect(monitor.status().status).toBe('healthy');
    monitor.setConnectionState('reconnecting', 1);
    expect(monitor.status()).toMatchObject({ status: 'degraded' });
    monitor.setConnectionState('failed', 3);
    expect(monitor.status().reasons[0]).toMatch(/long connection failed/);
    expect(monitor.snapshot()).toMatchObject({ status: 'unhealthy', feishu: { connection: 'failed', reconnects: 3 } });
    monitor.setConnectionState('connected', 3);
    expect(monitor.status().status).toBe('healthy');
  });

  it('gets worse at once but better only after the dwell time', () => {
    const { monitor, advance, changes } = setup({ recoveryDwellMs: 30_000 });
    for (let index = 0; index < 5; index++) monitor.trackAgentCall('manager', 100, 'error');
    expect(monitor.status().status).toBe('unhealthy');
    // Traffic recovers: the streak breaks and the error rate falls far below every threshold.
    for (let index = 0; index < 95; index++) monitor.trackAgentCall('manager', 100, 'success');
    const held = monitor.status();
    expect(held.status).toBe('unhealthy');
    expect(held.reasons.join(' ')).toMatch(/recovering: holding unhealthy/);
    advance(29_000);
    expect(monitor.status().status).toBe('unhealthy');
    advance(1_000);
    expect(monitor.status().status).toBe('healthy');
    expect(changes.map((change) => `${change.from}→${change.to}`)).toEqual(['healthy→unhealthy', 'unhealthy→healthy']);
  });

  it('restarts the dwell when conditions get bad again while recovering', () => {
    const { monitor, advance } = setup({ recoveryDwellMs: 30_000 });
    for (let index = 0; index < 5; index++) monitor.trackAgentCall('manager', 100, 'error');
    for (let index = 0; index < 95; index++) monitor.trackAgentCall('manager', 100, 'success');
    expect(monitor.status().status).toBe('unhealthy');
    advance(20_000);
    for (let index = 0; index < 5; index++) monitor.trackAgentCall('manager', 100, 'error');
    for (let index = 0; index < 5; index++) monitor.trackAgentCall('manager', 100, 'success');
    advance(20_000);
    // 40 s since the first recovery started, but only 20 s since the last bad moment.
    expect(monitor.status().status).toBe('unhealthy');
    advance(10_000);
    expect(monitor.status().status).toBe('healthy');
  });

  it('does not flap while the error rate hovers around a threshold', () => {
    const { monitor, advance, changes } = setup({ recoveryDwellMs: 10_000 });
    const next = random(3);
    // Error rate 25 %: degraded.
    for (let index = 0; index < 200; index++) {
      monitor.trackAgentCall('manager', 500, index % 4 === 0 ? 'error' : 'success');
      advance(500);
    }
    expect(monitor.status().status).toBe('degraded');
    // Then 17–23 %, crossing 20 % back and forth for ten minutes.
    for (let index = 0; index < 1_200; index++) {
      monitor.trackAgentCall('manager', 500, next() < 0.2 ? 'error' : 'success');
      monitor.status();
      advance(500);
    }
    expect(changes.map((change) => change.to)).toEqual(['degraded']);
    // Clearly recovered (well under 15 %): back to healthy after the dwell.
    for (let index = 0; index < 1_200; index++) {
      monitor.trackAgentCall('manager', 500, 'success');
      monitor.status();
      advance(500);
    }
    expect(changes.map((change) => change.to)).toEqual(['degraded', 'healthy']);
  });
});

describe('HealthMonitor errors and configuration', () => {
  it('counts errors by category, folding unknown categories into OTHER', () => {
    const { monitor } = setup();
    monitor.trackError('TIMEOUT', 'first token timeout');
    monitor.trackError('AUTH', '401');
    monitor.trackError('SOMETHING_NEW', 'who knows');
    const errors = monitor.snapshot().errors;
    expect(errors).toMatchObject({ total: 3, timeouts: 1, rateLimits: 0, other: 2 });
    expect(errors.byCategory).toMatchObject({ TIMEOUT: 1, AUTH: 1, OTHER: 1, RATE_LIMIT: 0 });
    expect(monitor.snapshot().lastError?.category).toBe('OTHER');
  });

  it('keeps secrets and long text out of lastError', () => {
    const { monitor } = setup({ secrets: ['super-secret-value'], maxErrorMessageLength: 80 });
    monitor.trackError(
      'AUTH',
      `401 for key sk-abcdefghijklmnop with Authorization: Bearer eyJhbGciOi.abc and super-secret-value ${'x'.repeat(500)}`,
    );
    const message = monitor.snapshot().lastError!.message;
    expect(message).not.toContain('sk-abcdefghijklmnop');
    expect(message).not.toContain('eyJhbGciOi');
    expect(message).not.toContain('super-secret-value');
    expect(message.length).toBeLessThanOrEqual(80);
    expect(sanitiseErrorMessage('api_key=abc123 token: "t-g1044ghJ7KLPVQ3ZAVXXXXXXXXX"')).toBe(
      'api_key=[Redacted] token: "[Redacted]"',
    );
  });

  it('rejects invalid options with one clear error', () => {
    expect(() => new HealthMonitor({ bucketCount: 1 })).toThrow(/bucketCount/);
    expect(() => new HealthMonitor({ degradedErrorRate: 0.6, unhealthyErrorRate: 0.5 })).toThrow(
      /unhealthyErrorRate must not be below/,
    );
  });

  it('holds a recovery for a quarter of the window, at most 30 s, unless configured', () => {
    const holdFor = (options: HealthMonitorOptions) => {
      const { monitor, advance } = setup(options);
      for (let index = 0; index < 5; index++) monitor.trackAgentCall('manager', 100, 'error');
      advance(monitor.windowSeconds * 1_000);
      monitor.trackAgentCall('manager', 100, 'success');
      let held = 0;
      while (monitor.status().status !== 'healthy') {
        advance(1_000);
        held += 1_000;
      }
      return held;
    };
    expect(holdFor({ windowSeconds: 20 })).toBe(5_000);
    expect(holdFor({ windowSeconds: 60 })).toBe(15_000);
    expect(holdFor({ windowSeconds: 300 })).toBe(30_000);
    expect(holdFor({ windowSeconds: 300, recoveryDwellMs: 8_000 })).toBe(8_000);
  });

  it('takes its thresholds from config', () => {
    const options = healthOptionsFromConfig(
      {
        windowSeconds: 60,
        degradedErrorRate: 0.1,
        unhealthyErrorRate: 0.3,
        degradedRateLimits: 2,
        minCalls: 3,
        degradedP95Ms: 5_000,
        recoveryHoldSeconds: 7,
      },
      ['abcd1234'],
    );
    expect(options).toMatchObject({ windowSeconds: 60, minCalls: 3, recoveryDwellMs: 7_000, secrets: ['abcd1234'] });
    const { monitor } = setup(options);
    expect(monitor.windowSeconds).toBe(60);
    monitor.trackRateLimit('m');
    monitor.trackRateLimit('m');
    expect(monitor.status().status).toBe('degraded');
    // Monitors share nothing: another one with the same options starts healthy and empty.
    expect(setup(options).monitor.snapshot()).toMatchObject({ status: 'healthy', rateLimits: { total: 0 } });
  });
});

describe('attachHealthMonitor', () => {
  it('feeds the monitor from bus events and stops when detached', () => {
    const { monitor } = setup();
    const bus = createEventBus();
    const detach = attachHealthMonitor(bus, monitor);
    bus.emit({
      type: 'agent.call',
      traceId: 't1',
      agent: 'manager',
      model: 'gpt-4o-mini',
      latencyMs: 1_200,
      outcome: 'error',
      inputTokens: 10,
      outputTokens: 0,
      errorCategory: 'TIMEOUT',
    });
    bus.emit({ type: 'error', category: 'NETWORK', message: 'ECONNRESET', where: 'feishu.reply' });
    bus.emit({ type: 'model.rate-limit', model: 'gpt-4o-mini', retryAfterMs: 500, remaining: 3 });
    bus.emit({ type: 'feishu.connection', state: 'reconnecting', reconnects: 2 });
    bus.emit({ type: 'process.error', kind: 'unhandledRejection', message: 'boom' });
    const snapshot = monitor.snapshot();
    expect(snapshot.agents.manager).toMatchObject({ callCount: 1, errorCount: 1 });
    expect(snapshot.errors.byCategory).toMatchObject({ TIMEOUT: 1, NETWORK: 1 });
    expect(snapshot.lastError?.message).toBe('feishu.reply: ECONNRESET');
    expect(snapshot.rateLimits.byModel['gpt-4o-mini']).toMatchObject({ count: 1, remaining: 3 });
    expect(snapshot.feishu).toEqual({ connection: 'reconnecting', reconnects: 2 });
    expect(snapshot.process.unhandledRejections).toBe(1);
    detach();
    bus.emit({ type: 'error', category: 'AUTH', message: '401', where: 'x' });
    expect(monitor.snapshot().errors.total).toBe(2);
  });
});

describe('health monitor: answers that never reach anyone', () => {
  it('turns unhealthy when messages fail to be answered even though every agent call succeeds', () => {
    const { monitor, advance } = setup();
    const bus = createEventBus();
    attachHealthMonitor(bus, monitor);
    for (let index = 0; index < 6; index++) {
      // The model answered; the Feishu reply then failed (permission revoked, Feishu down).
      monitor.trackAgentCall('manager', 800, 'success');
      bus.emit({ type: 'job.finished', traceId: `t${index}`, jobId: `j${index}`, outcome: 'retry', durationMs: 900 });
      advance(1_000);
    }
    const snapshot = monitor.snapshot();
    expect(snapshot.status).toBe('unhealthy');
    expect(snapshot.deliveries).toEqual({ answered: 0, failed: 6 });
    expect(snapshot.reasons.join(' ')).toContain('6 of 6 messages failed to get an answer');
  });

  it('stays healthy with an occasional failed delivery, ignores hand-backs, and forgets old failures', () => {
    const { monitor, advance } = setup();
    const bus = createEventBus();
    attachHealthMonitor(bus, monitor);
    const finish = (outcome: 'done' | 'retry' | 'released') =>
      bus.emit({ type: 'job.finished', traceId: 't', jobId: 'j', outcome, durationMs: 10 });
    for (let index = 0; index < 19; index++) finish('done');
    finish('retry');
    for (let index = 0; index < 10; index++) finish('released');
    expect(monitor.snapshot()).toMatchObject({ status: 'healthy', deliveries: { answered: 19, failed: 1 } });
    for (let index = 0; index < 10; index++) finish('retry');
    expect(monitor.snapshot().status).not.toBe('healthy');
    advance(301_000);
    expect(monitor.snapshot().deliveries).toEqual({ answered: 0, failed: 0 });
  });
});

describe('health monitor: what users experienced, with per-model detail', () => {
  it('a turn a fallback answered is a success; the primary failing and its breaker refusing show per model', () => {
    const { monitor, advance } = setup();
    const bus = createEventBus();
    attachHealthMonitor(bus, monitor);
    const attempt = (
      model: string,
      outcome: 'success' | 'error' | 'refused',
      category?: 'RATE_LIMIT' | 'CIRCUIT_OPEN',
    ) =>
      bus.emit({
        type: 'model.attempt',
        traceId: 't',
        agent: 'manager',
        model,
        outcome,
        latencyMs: 5,
        ...(category ? { category } : {}),
      });
    for (let index = 0; index < 10; index++) {
      if (index < 5) attempt('primary', 'error', 'RATE_LIMIT');
      else attempt('primary', 'refused', 'CIRCUIT_OPEN');
      attempt('backup', 'success');
      bus.emit({
        type: 'agent.call',
        traceId: 't',
        agent: 'manager',
        model: 'backup',
        latencyMs: 900,
        outcome: 'success',
        inputTokens: 1,
        outputTokens: 1,
      });
      advance(1_000);
    }
    bus.emit({ type: 'model.breaker', model: 'primary', state: 'open', cooldownMs: 4_000, category: 'RATE_LIMIT' });
    const snapshot = monitor.snapshot();
    expect(snapshot.calls).toMatchObject({ total: 10, errors: 0 });
    expect(snapshot.errors.total).toBe(0);
    expect(snapshot.models.primary).toMatchObject({
      attempts: 5,
      failures: 5,
      refused: 5,
      errorRate: 1,
      failuresByCategory: { RATE_LIMIT: 5 },
      breaker: { state: 'open', cooldownMs: 4_000 },
    });
    expect(snapshot.models.backup).toMatchObject({ attempts: 10, successes: 10, failures: 0, refused: 0 });
    // Users were answered: never unhealthy; the failing primary is a degraded reason of its own.
    expect(snapshot.status).toBe('degraded');
    expect(snapshot.reasons).toEqual(['model primary: 100% of 5 requests failed in 300 s']);
  });

  it('a call nothing could answer because every breaker was open is a CIRCUIT_OPEN failure', () => {
    const { monitor } = setup();
    const bus = createEventBus();
    attachHealthMonitor(bus, monitor);
    bus.emit({
      type: 'agent.call',
      traceId: 't',
      agent: 'manager',
      model: 'primary',
      latencyMs: 2,
      outcome: 'error',
      inputTokens: 0,
      outputTokens: 0,
      errorCategory: 'CIRCUIT_OPEN',
    });
    expect(monitor.snapshot()).toMatchObject({
      calls: { total: 1, errors: 1 },
      errors: { total: 1, other: 1, byCategory: { CIRCUIT_OPEN: 1 } },
      lastError: { category: 'CIRCUIT_OPEN' },
    });
  });
});

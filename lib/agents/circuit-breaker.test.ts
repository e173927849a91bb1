import { describe, expect, it } from 'vitest';
import { type BreakerChange, createCircuitBreaker } from './circuit-breaker.js';

function setup({ firstCooldownMs = 1_000, cooldownMs = 8_000, probeTimeoutMs = 30_000 } = {}) {
  let clock = 1_000;
  const changes: BreakerChange[] = [];
  const breaker = createCircuitBreaker({
    failureThreshold: 3,
    firstCooldownMs,
    cooldownMs,
    probeTimeoutMs,
    onChange: (change) => changes.push(change),
    now: () => clock,
  });
  const open = () => {
    for (let i = 0; i < 3; i++) breaker.recordFailure('TIMEOUT');
  };
  return { breaker, changes, open, advance: (ms: number) => (clock += ms) };
}

describe('createCircuitBreaker', () => {
  it('opens after N consecutive failures, not before', () => {
    const { breaker, changes } = setup();
    breaker.recordFailure('RATE_LIMIT');
    breaker.recordFailure('RATE_LIMIT');
    expect(breaker.state()).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure('RATE_LIMIT');
    expect(breaker.state()).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.lastFailureCategory).toBe('RATE_LIMIT');
    expect(changes).toEqual([{ state: 'open', cooldownMs: 1_000, category: 'RATE_LIMIT' }]);
  });

  it('a success resets the consecutive count', () => {
    const { breaker } = setup();
    breaker.recordFailure('OTHER');
    breaker.recordFailure('OTHER');
    breaker.recordSuccess();
    breaker.recordFailure('OTHER');
    expect(breaker.state()).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(1);
  });

  it('half-open after the short first cooldown lets exactly one probe through; its success closes', () => {
    const { breaker, advance, open, changes } = setup();
    open();
    advance(999);
    expect(breaker.state()).toBe('open');
    expect(breaker.waitMs()).toBe(1);
    advance(1);
    expect(breaker.state()).toBe('half-open');
    expect(breaker.waitMs()).toBe(0);
    expect(breaker.tryAcquire()).toBe(true);
    // Everyone else goes elsewhere (or waits for the verdict) while the probe is out.
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.waitMs()).toBeUndefined();
    breaker.recordSuccess();
    expect(breaker.state()).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes.map((change) => change.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('each failed probe doubles the cooldown up to the maximum; a success starts over', () => {
    const { breaker, advance, open, changes } = setup({ firstCooldownMs: 1_000, cooldownMs: 5_000 });
    open();
    const cooldowns: number[] = [];
    for (let probe = 0; probe < 5; probe++) {
      const wait = breaker.waitMs()!;
      cooldowns.push(wait);
      advance(wait - 1);
      expect(breaker.tryAcquire()).toBe(false);
      advance(1);
      expect(breaker.tryAcquire()).toBe(true);
      breaker.recordFailure('NETWORK');
    }
    expect(cooldowns).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    advance(5_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordSuccess();
    open();
    expect(breaker.waitMs()).toBe(1_000);
    expect(changes.filter((change) => change.state === 'open').map((change) => change.cooldownMs)).toEqual([
      1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 1_000,
    ]);
  });

  it("a provider's retry-after stretches the cooldown, never past the maximum", () => {
    const { breaker } = setup({ cooldownMs: 8_000 });
    breaker.recordFailure('RATE_LIMIT');
    breaker.recordFailure('RATE_LIMIT');
    breaker.recordFailure('RATE_LIMIT', 3_000);
    expect(breaker.waitMs()).toBe(3_000);
    const other = setup({ cooldownMs: 8_000 }).breaker;
    for (let i = 0; i < 3; i++) other.recordFailure('RATE_LIMIT', 60_000);
    expect(other.waitMs()).toBe(8_000);
  });

  it('late failures of calls sent before it opened do not push the cooldown back', () => {
    const { breaker, advance, open } = setup();
    open();
    advance(600);
    breaker.recordFailure('TIMEOUT');
    expect(breaker.waitMs()).toBe(400);
  });

  it('a released probe frees the slot; a vanished probe expires after the probe timeout', () => {
    const { breaker, advance, open } = setup({ probeTimeoutMs: 10_000 });
    open();
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    // A slow probe is not a vanished one: still blocked well past the cooldown.
    advance(9_999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });
});

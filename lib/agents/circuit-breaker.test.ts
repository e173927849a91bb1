import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';

function setup() {
  let clock = 1_000;
  const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 5_000, now: () => clock });
  return { breaker, advance: (ms: number) => (clock += ms) };
}

describe('createCircuitBreaker', () => {
  it('opens after N consecutive failures, not before', () => {
    const { breaker } = setup();
    breaker.recordFailure('RATE_LIMIT');
    breaker.recordFailure('RATE_LIMIT');
    expect(breaker.state()).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure('RATE_LIMIT');
    expect(breaker.state()).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.lastFailureCategory).toBe('RATE_LIMIT');
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

  it('half-open after the cooldown lets exactly one probe through; its success closes', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure('TIMEOUT');
    advance(4_999);
    expect(breaker.state()).toBe('open');
    advance(1);
    expect(breaker.state()).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.state()).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('a failed probe re-opens for another full cooldown', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure('RATE_LIMIT');
    advance(5_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure('RATE_LIMIT');
    expect(breaker.state()).toBe('open');
    advance(4_000);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('a released probe frees the slot; a vanished probe expires after a cooldown', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure('NETWORK');
    advance(5_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    advance(5_000);
    expect(breaker.tryAcquire()).toBe(true);
  });
});

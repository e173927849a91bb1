import { describe, expect, it } from 'vitest';
import { createAuthThrottle, throttleClient } from './auth-throttle.js';

describe('createAuthThrottle', () => {
  it('refuses a client after maxFailures in its window, until the window ends', () => {
    const clock = { now: 1_000_000 };
    const throttle = createAuthThrottle({ maxFailures: 3, windowMs: 60_000, now: () => clock.now });
    for (let failure = 0; failure < 3; failure++) {
      expect(throttle.retryAfterSeconds('a')).toBe(0);
      throttle.recordFailure('a');
    }
    expect(throttle.retryAfterSeconds('a')).toBe(60);
    expect(throttle.retryAfterSeconds('b')).toBe(0);
    clock.now += 59_500;
    expect(throttle.retryAfterSeconds('a')).toBe(1);
    clock.now += 500;
    expect(throttle.retryAfterSeconds('a')).toBe(0);
  });

  it('remembers at most maxClients, forgetting the oldest windows first', () => {
    const clock = { now: 0 };
    const throttle = createAuthThrottle({ maxFailures: 1, maxClients: 100, now: () => clock.now });
    for (let client = 0; client < 10_000; client++) {
      clock.now++;
      throttle.recordFailure(`10.0.${client >> 8}.${client & 255}`);
      expect(throttle.size).toBeLessThanOrEqual(100);
    }
    // The newest are still refused; the oldest were forgotten.
    expect(throttle.retryAfterSeconds('10.0.39.15')).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds('10.0.0.0')).toBe(0);
  });
});

describe('throttleClient', () => {
  it('keys IPv4 by address and IPv6 by its /64', () => {
    expect(throttleClient('203.0.113.7')).toBe('203.0.113.7');
    expect(throttleClient('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(throttleClient('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleClient('2001:0db8:0000:0000:ffff::9')).toBe('2001:db8:0:0::/64');
    expect(throttleClient('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(throttleClient('::1')).toBe('0:0:0:0::/64');
    expect(throttleClient('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
    expect(throttleClient(undefined)).toBe('unknown');
  });
});

import { describe, expect, it } from 'vitest';
import { ModelWindow } from './model-window.js';

describe('ModelWindow', () => {
  it('counts sent attempts apart from breaker refusals, failures by category, and forgets old ones', () => {
    const window = new ModelWindow({ slotCount: 4, slotMs: 1_000 });
    window.record(0, 'success', undefined);
    window.record(100, 'error', 'RATE_LIMIT');
    window.record(200, 'error', 'RATE_LIMIT');
    window.record(300, 'error', 'TIMEOUT');
    window.record(400, 'refused', 'CIRCUIT_OPEN');
    window.setBreaker(400, 'open', 2_000);
    expect(window.read(500)).toEqual({
      attempts: 4,
      successes: 1,
      failures: 3,
      refused: 1,
      failuresByCategory: { RATE_LIMIT: 2, TIMEOUT: 1 },
      breaker: { state: 'open', since: 400, cooldownMs: 2_000 },
    });
    expect(window.counts(500)).toEqual({ attempts: 4, failures: 3 });
    window.setBreaker(3_000, 'closed', undefined);
    expect(window.read(4_500)).toMatchObject({
      attempts: 0,
      refused: 0,
      breaker: { state: 'closed', cooldownMs: null },
    });
  });
});

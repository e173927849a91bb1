import { describe, expect, it } from 'vitest';
import { createConcurrencyLimiter, type LimitChange, type Permit } from './concurrency-limiter.js';

function setup(options: { initial?: number; max?: number } = {}) {
  let clock = 0;
  const changes: LimitChange[] = [];
  const limiter = createConcurrencyLimiter({
    initial: options.initial ?? 4,
    max: options.max ?? 64,
    now: () => clock,
    onChange: (change) => changes.push(change),
  });
  const take = (count: number) => Array.from({ length: count }, () => limiter.tryAcquire());
  return { limiter, changes, take, advance: (ms: number) => (clock += ms) };
}

describe('createConcurrencyLimiter', () => {
  it('admits up to the limit, then queues callers first come first served', async () => {
    const { limiter, take } = setup({ initial: 2 });
    const [first, second, third] = take(3);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(third).toBeUndefined();
    const waiting = limiter.acquire(1_000);
    expect(limiter.read()).toMatchObject({ limit: 2, inFlight: 2, waiting: 1 });
    first!.release();
    const granted = await waiting;
    expect(granted).toBeDefined();
    expect(limiter.read()).toMatchObject({ inFlight: 2, waiting: 0 });
    expect(await limiter.acquire(10)).toBeUndefined();
  });

  it('slow start: a burst from idle doubles the limit within one round of accepted requests', async () => {
    const { limiter, take, changes } = setup({ initial: 16 });
    const permits = take(16) as Permit[];
    const late = Array.from({ length: 4 }, () => limiter.acquire(1_000));
    for (const permit of permits) permit.accepted();
    expect(limiter.limit).toBe(32);
    expect((await Promise.all(late)).every((permit) => permit !== undefined)).toBe(true);
    expect(changes.at(-1)?.reason).toMatch(/^growing: the provider accepts requests \(slow start/);
  });

  it('does not grow while most of the limit sits idle, and never past the ceiling', () => {
    const { limiter } = setup({ initial: 8, max: 9 });
    const permit = limiter.tryAcquire()!;
    permit.accepted();
    expect(limiter.limit).toBe(8);
    const many = Array.from({ length: 8 }, () => limiter.tryAcquire()).filter((p) => p !== undefined) as Permit[];
    for (const each of many) each.accepted();
    expect(limiter.limit).toBe(9);
  });

  it('halves on a 429 once per round: requests already out do not cut again', () => {
    const { limiter, take, advance, changes } = setup({ initial: 16 });
    const permits = take(16) as Permit[];
    advance(100);
    for (const permit of permits) permit.release({ rateLimited: true });
    expect(limiter.limit).toBe(8);
    expect(changes).toEqual([
      { limit: 8, previous: 16, reason: 'cut to 8: the provider rate-limited a request (429)' },
    ]);
    // A request sent after the cut that is rate-limited again cuts again.
    const next = limiter.tryAcquire()!;
    advance(100);
    next.release({ rateLimited: true });
    expect(limiter.limit).toBe(4);
    // After a cut growth is additive: one per `limit` accepted requests.
    const round = take(4) as Permit[];
    for (const permit of round) permit.accepted();
    expect(limiter.read()).toMatchObject({ limit: 4 });
    for (const permit of round) permit.release({ latencyMs: 100 });
    const more = take(4) as Permit[];
    for (const permit of more) permit.accepted();
    expect(limiter.limit).toBe(5);
    expect(limiter.read().reason).toBe('growing: the provider accepts requests without rate limits');
  });

  it('cuts on a first-token latency spike while busy, not on a slow request when idle', () => {
    const { limiter, take, advance } = setup({ initial: 4 });
    for (let index = 0; index < 20; index++) limiter.tryAcquire()!.release({ latencyMs: 500 });
    // Idle (one request of four): a slow answer is not congestion.
    limiter.tryAcquire()!.release({ latencyMs: 5_000 });
    expect(limiter.limit).toBe(4);
    for (let index = 0; index < 20; index++) limiter.tryAcquire()!.release({ latencyMs: 500 });
    const busy = take(4) as Permit[];
    advance(10);
    busy[0]!.release({ latencyMs: 4_000 });
    expect(limiter.read()).toMatchObject({
      limit: 3,
      reason: expect.stringMatching(/^cut to 3: first token after 4000 ms, usually \d+ ms$/),
    });
  });

  it('never goes below one, and an abort ends a wait', async () => {
    const { limiter, advance } = setup({ initial: 2 });
    for (let index = 0; index < 5; index++) {
      const permit = limiter.tryAcquire()!;
      advance(10);
      permit.release({ rateLimited: true });
    }
    expect(limiter.limit).toBe(1);
    const held = limiter.tryAcquire()!;
    const controller = new AbortController();
    const waiting = limiter.acquire(60_000, controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    held.release();
    expect(limiter.read()).toMatchObject({ inFlight: 0, waiting: 0 });
  });
});

/**
 * A manual clock for unit tests of timing logic: `now()` only moves when the test calls
 * `advance`, and `sleep(ms)` resolves when the clock passes its deadline. Between timers it
 * lets pending promise callbacks run, so async code observes time the way it would for real.
 *
 * @example
 * const clock = createVirtualClock();
 * const gate = createRateGate({ perSecond: 4, now: clock.now, sleep: clock.sleep });
 * const done = gate.run(work);
 * await clock.advance(1_000);
 */
export interface VirtualClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): Promise<void>;
  /** Advances timer by timer until `done` settles (bounded by `maxMs` of virtual time). */
  runUntil<T>(done: Promise<T>, maxMs?: number): Promise<T>;
  /** Lets queued promise callbacks run without moving time. */
  settle(): Promise<void>;
  readonly pendingTimers: number;
}

export function createVirtualClock(start = 1_000_000): VirtualClock {
  let current = start;
  let sequence = 0;
  const timers: Array<{ at: number; order: number; resolve: () => void }> = [];

  const settle = async () => {
    for (let round = 0; round < 20; round++) await new Promise<void>((resolve) => setImmediate(resolve));
  };

  const fireNext = (limit: number): boolean => {
    timers.sort((a, b) => a.at - b.at || a.order - b.order);
    const next = timers[0];
    if (!next || next.at > limit) return false;
    timers.shift();
    current = Math.max(current, next.at);
    next.resolve();
    return true;
  };

  return {
    now: () => current,
    sleep(ms) {
      return new Promise<void>((resolve) => {
        timers.push({ at: current + Math.max(0, ms), order: sequence++, resolve });
      });
    },
    async advance(ms) {
      const until = current + ms;
      await settle();
      while (fireNext(until)) await settle();
      current = until;
      await settle();
    },
    async runUntil(done, maxMs = 600_000) {
      let settled = false;
      const watched = done.finally(() => {
        settled = true;
      });
      // Handled here so a rejection that settles mid-loop is not reported as unhandled; the
      // caller still receives it from the returned promise.
      watched.catch(() => {});
      const until = current + maxMs;
      await settle();
      while (!settled) {
        if (!fireNext(until)) break;
        await settle();
      }
      if (!settled) throw new Error(`virtual clock: not settled within ${maxMs} ms of virtual time`);
      return watched;
    },
    settle,
    get pendingTimers() {
      return timers.length;
    },
  };
}

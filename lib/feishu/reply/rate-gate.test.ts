import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../../test/support/virtual-clock.js';
import { createRateGate } from './rate-gate.js';

describe('createRateGate', () => {
  it('spreads quick calls at least 1000/perSecond ms apart and never runs two at once', async () => {
    const clock = createVirtualClock();
    const gate = createRateGate({ perSecond: 4, now: clock.now, sleep: clock.sleep });
    const starts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const work = async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      starts.push(clock.now());
      await clock.sleep(10);
      active--;
    };
    const all = Promise.all(Array.from({ length: 10 }, () => gate.run(work)));
    await clock.runUntil(all);

    expect(maxActive).toBe(1);
    expect(starts).toHaveLength(10);
    for (let index = 1; index < starts.length; index++) {
      expect(starts[index]! - starts[index - 1]!).toBeGreaterThanOrEqual(250);
    }
  });

  it('counts the one-second window from when earlier calls finished, whatever their latency', async () => {
    const clock = createVirtualClock();
    const gate = createRateGate({ perSecond: 3, now: clock.now, sleep: clock.sleep });
    const spans: Array<{ start: number; end: number }> = [];
    // Slow calls: the server may see each one as late as its finish time.
    const latencies = [400, 10, 10, 10, 10, 10, 10];
    const all = Promise.all(
      latencies.map((latency) =>
        gate.run(async () => {
          const start = clock.now();
          await clock.sleep(latency);
          spans.push({ start, end: clock.now() });
        }),
      ),
    );
    await clock.runUntil(all);

    for (let index = 3; index < spans.length; index++) {
      // A call may start only a full second after the call `perSecond` earlier finished.
      expect(spans[index]!.start - spans[index - 3]!.end).toBeGreaterThanOrEqual(1000);
    }
  });

  it('waits out a pause the server asked for, and a failed call does not block the next', async () => {
    const clock = createVirtualClock();
    const gate = createRateGate({ perSecond: 10, now: clock.now, sleep: clock.sleep });
    const failing = gate.run(async () => {
      throw new Error('rate limited');
    });
    await expect(clock.runUntil(failing)).rejects.toThrow('rate limited');
    const pausedAt = clock.now();
    gate.pauseUntil(pausedAt + 2_000);
    let startedAt = 0;
    await clock.runUntil(
      gate.run(async () => {
        startedAt = clock.now();
      }),
    );
    expect(startedAt - pausedAt).toBeGreaterThanOrEqual(2_000);
  });

  it('ready() resolves only when a call would be allowed', async () => {
    const clock = createVirtualClock();
    const gate = createRateGate({ perSecond: 2, now: clock.now, sleep: clock.sleep });
    await clock.runUntil(gate.run(async () => {}));
    const before = clock.now();
    await clock.runUntil(gate.ready());
    expect(clock.now() - before).toBeGreaterThanOrEqual(500);
  });

  it('rejects a non-positive rate', () => {
    expect(() => createRateGate({ perSecond: 0 })).toThrow(RangeError);
  });
});

describe('urgent calls', () => {
  it('skip the spacing but never the per-second window', async () => {
    const clock = { at: 0 };
    const starts: number[] = [];
    const gate = createRateGate({
      perSecond: 2,
      now: () => clock.at,
      sleep: async (ms) => {
        clock.at += ms;
      },
    });
    const call = () => {
      starts.push(clock.at);
      return Promise.resolve();
    };
    await gate.run(call);
    // Urgent: at once, where a normal call would wait 500 ms of spacing.
    await gate.run(call, { urgent: true });
    // The window (2 per second) is full: even an urgent call waits for it.
    await gate.run(call, { urgent: true });
    expect(starts).toEqual([0, 0, 1000]);
  });
});

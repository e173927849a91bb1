import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../../test/support/virtual-clock.js';
import { createCoalescingWriter } from './coalescing-writer.js';
import { createRateGate } from './rate-gate.js';

describe('createCoalescingWriter', () => {
  it('writes only the newest value, one at a time, within the rate limit, and flushes the last one', async () => {
    const clock = createVirtualClock();
    const gate = createRateGate({ perSecond: 4, now: clock.now, sleep: clock.sleep });
    const written: Array<{ value: string; at: number }> = [];
    let active = 0;
    let maxActive = 0;
    const writer = createCoalescingWriter<string>({
      write: (value) =>
        gate.run(async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          written.push({ value, at: clock.now() });
          await clock.sleep(80);
          active--;
        }),
      waitTurn: () => gate.ready(),
      sleep: clock.sleep,
    });
    // A model stream: a new full text every 10 ms for 3 seconds.
    const texts = Array.from({ length: 300 }, (_, index) => 'x'.repeat(index + 1));
    for (const text of texts) {
      writer.offer(text);
      await clock.advance(10);
    }
    await clock.runUntil(writer.flush());

    expect(maxActive).toBe(1);
    expect(written.at(-1)?.value).toBe(texts.at(-1));
    // Coalesced: about 4 writes a second for 3 seconds, not 300.
    expect(written.length).toBeGreaterThanOrEqual(8);
    expect(written.length).toBeLessThanOrEqual(16);
    for (let index = 4; index < written.length; index++) {
      expect(written[index]!.at - written[index - 4]!.at).toBeGreaterThanOrEqual(1000);
    }
    // Values only ever grow: nothing older overtakes something newer.
    for (let index = 1; index < written.length; index++) {
      expect(written[index]!.value.length).toBeGreaterThan(written[index - 1]!.value.length);
    }
    await writer.stop();
  });

  it('retries after a failure with the newest value, after the delay retryDelay chose', async () => {
    const clock = createVirtualClock();
    const attempts: Array<{ value: number; at: number }> = [];
    let failuresLeft = 2;
    const delays: number[] = [];
    const writer = createCoalescingWriter<number>({
      write: async (value) => {
        attempts.push({ value, at: clock.now() });
        if (failuresLeft-- > 0) throw new Error('429');
      },
      retryDelay: (_error, failures) => {
        const delay = failures * 1000;
        delays.push(delay);
        return delay;
      },
      sleep: clock.sleep,
    });
    writer.offer(1);
    await clock.settle();
    writer.offer(2); // arrives while backing off: replaces 1
    await clock.runUntil(writer.flush());

    expect(delays).toEqual([1000, 2000]);
    expect(attempts.map((attempt) => attempt.value)).toEqual([1, 2, 2]);
    expect(attempts[1]!.at - attempts[0]!.at).toBe(1000);
    expect(attempts[2]!.at - attempts[1]!.at).toBe(2000);
    await writer.stop();
  });

  it('gives a value up when retryDelay says so, reports it, and still resolves flush', async () => {
    const clock = createVirtualClock();
    const givenUp: unknown[] = [];
    const writer = createCoalescingWriter<string>({
      write: async () => {
        throw new Error('permission denied');
      },
      retryDelay: () => undefined,
      onGiveUp: (error, value) => givenUp.push([String(error), value]),
      sleep: clock.sleep,
    });
    writer.offer('final');
    await clock.runUntil(writer.flush());
    expect(givenUp).toEqual([['Error: permission denied', 'final']]);
    await writer.stop();
  });

  it('ignores offers after stop and resolves pending flushes', async () => {
    const clock = createVirtualClock();
    const written: string[] = [];
    const writer = createCoalescingWriter<string>({
      write: async (value) => {
        written.push(value);
      },
      sleep: clock.sleep,
    });
    writer.offer('a');
    await clock.runUntil(writer.flush());
    await writer.stop();
    writer.offer('b');
    await writer.flush();
    expect(written).toEqual(['a']);
  });
});

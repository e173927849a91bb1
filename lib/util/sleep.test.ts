import { describe, expect, it } from 'vitest';
import { sleep } from './sleep.js';

describe('sleep', () => {
  it('waits at least the given time', async () => {
    const start = performance.now();
    await sleep(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
  });
  it('rejects with the abort reason at once when aborted', async () => {
    const controller = new AbortController();
    const start = performance.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(pending).rejects.toThrow('shutdown');
    expect(performance.now() - start).toBeLessThan(1_000);
  });
  it('rejects immediately on an already aborted signal', async () => {
    await expect(sleep(10, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});

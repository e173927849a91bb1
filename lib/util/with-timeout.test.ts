import { describe, expect, it } from 'vitest';
import { withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  it('settles like the promise when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(5), 1_000, () => new Error('late'))).resolves.toBe(5);
    await expect(withTimeout(Promise.reject(new Error('own')), 1_000, () => new Error('late'))).rejects.toThrow('own');
  });
  it('rejects with the timeout error when the promise is too slow', async () => {
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 20, () => new Error('timed out after 20 ms'))).rejects.toThrow(
      'timed out after 20 ms',
    );
  });
});

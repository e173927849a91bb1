import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { createUserNameLookup } from './user-name-lookup.js';

describe('createUserNameLookup', () => {
  it('trims the name and cuts it to 100 characters', async () => {
    const lookUp = createUserNameLookup({
      resolveUserName: async (openId) => (openId === 'ou_long' ? ` ${'x'.repeat(150)} ` : '  Alice  '),
      log: silentLogger(),
    });
    expect(await lookUp('ou_alice')).toBe('Alice');
    expect(await lookUp('ou_long')).toBe('x'.repeat(100));
  });

  it('is undefined without a resolver, for an empty id, a blank name or a failure', async () => {
    expect(await createUserNameLookup({ log: silentLogger() })('ou_alice')).toBeUndefined();
    const asked: string[] = [];
    const blank = createUserNameLookup({
      resolveUserName: async (openId) => {
        asked.push(openId);
        return '   ';
      },
      log: silentLogger(),
    });
    expect(await blank('')).toBeUndefined();
    expect(asked).toEqual([]);
    expect(await blank('ou_alice')).toBeUndefined();
    const failing = createUserNameLookup({
      resolveUserName: () => Promise.reject(new Error('contact API down')),
      log: silentLogger(),
    });
    expect(await failing('ou_alice')).toBeUndefined();
  });

  it('gives up on a resolver slower than its timeout', async () => {
    const lookUp = createUserNameLookup({
      resolveUserName: () => new Promise(() => {}),
      timeoutMs: 20,
      log: silentLogger(),
    });
    expect(await lookUp('ou_alice')).toBeUndefined();
  });
});

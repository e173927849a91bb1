import { describe, expect, it } from 'vitest';
import { StoreArgumentError } from './store.js';
import { storeArguments } from './store-arguments.js';

// Which calls every store refuses is test/store/store-conformance.ts's table, run on each
// backend; this covers what the checks hand back and how their errors are recognised.
describe('storeArguments', () => {
  const job = { id: 'j1', lane: 'chat:a', kind: 'answer', payload: { text: '你好', n: [1, null] } };

  it('returns the JSON a store writes, so the check and the stored value cannot disagree', () => {
    expect(storeArguments.enqueue(job)).toBe('{"text":"你好","n":[1,null]}');
    expect(storeArguments.admit({ keys: ['event:e1'], ttlMs: 1_000, job: { ...job, payload: null } })).toBe('null');
    expect(storeArguments.putRecord('traces', 't1', [1, 'two'], 5)).toBe('[1,"two"]');
    expect(storeArguments.saveCheckpoint({ card: 'c1' })).toBe('{"card":"c1"}');
  });

  it('stores no checkpoint for undefined, as for null', () => {
    expect(storeArguments.saveCheckpoint(undefined)).toBe('null');
    expect(storeArguments.saveCheckpoint(null)).toBe('null');
  });

  it('accepts the edges of each range', () => {
    expect(() => storeArguments.listJobs({ limit: 0 })).not.toThrow();
    expect(() => storeArguments.limit(0)).not.toThrow();
    expect(() => storeArguments.failJob({ error: 'x', dead: false, retryInMs: 0 })).not.toThrow();
    expect(() => storeArguments.failJob({ error: 'x', dead: false })).not.toThrow();
    expect(() => storeArguments.claimKey('k', 0.5)).not.toThrow();
    expect(() => storeArguments.appendHistory('c', [], 1)).not.toThrow();
    expect(() => storeArguments.purge(0)).not.toThrow();
  });

  it('throws errors recognised by code, keeping the built-in class', () => {
    const typeError = catchError(() => storeArguments.enqueue({ ...job, lane: '' }));
    expect(typeError).toBeInstanceOf(TypeError);
    expect(typeError).toMatchObject({ code: 'STORE_INVALID_ARGUMENT', message: 'job.lane must be a non-empty string' });
    const rangeError = catchError(() => storeArguments.incrementCounter('k', 0));
    expect(rangeError).toBeInstanceOf(RangeError);
    expect(StoreArgumentError.isInstance(typeError) && StoreArgumentError.isInstance(rangeError)).toBe(true);
    // A TypeError of anything else is not one of ours.
    expect(StoreArgumentError.isInstance(new TypeError('x'))).toBe(false);
    expect(StoreArgumentError.isInstance(Object.assign(new Error('x'), { code: 'STORE_INVALID_ARGUMENT' }))).toBe(
      false,
    );
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

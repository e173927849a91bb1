import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import { StoreUnavailableError } from '../../lib/store/store.js';
import { REDIS_URL, requireRedis } from '../support/requirements.js';
import { describeStoreConformance } from './store-conformance.js';

const redisAvailable = await requireRedis();

/** Every test gets its own key prefix, removed afterwards, so runs never see each other's keys. */
async function removePrefix(url: string): Promise<void> {
  const prefix = new URL(url).searchParams.get('prefix');
  if (!prefix) return;
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

describe.runIf(redisAvailable)('Redis store', () => {
  describeStoreConformance('redis', {
    createStoreUrl: () => `${REDIS_URL}/0?prefix=conformance:${randomUUID()}:`,
    cleanup: removePrefix,
  });

  it('finds a claimable lane behind more blocked lanes than one page of the claim script', async () => {
    const url = `${REDIS_URL}/0?prefix=pages:${randomUUID()}:`;
    const store = await openStore(url);
    try {
      const T0 = 1_700_000_000_000;
      for (let index = 0; index < 1_200; index++) {
        await store.enqueue(
          { id: `answer-${index}`, lane: `chat-${index}`, kind: 'answer', payload: null },
          T0 + index,
        );
      }
      await store.enqueue({ id: 'notice-1', lane: 'notice', kind: 'notice', payload: null }, T0 + 5_000);
      const claimed = await store.claimNextJob({ owner: 'w', leaseMs: 1_000, kinds: ['notice'], now: T0 + 6_000 });
      expect(claimed?.id).toBe('notice-1');
    } finally {
      await store.close();
      await removePrefix(url);
    }
  });

  it('fails fast with StoreUnavailableError when Redis cannot be reached', async () => {
    const started = Date.now();
    const error = await openStore('redis://127.0.0.1:1/0?prefix=x:').catch((caught: unknown) => caught);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

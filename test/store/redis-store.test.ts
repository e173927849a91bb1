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

  it('fails fast with StoreUnavailableError when Redis cannot be reached', async () => {
    const started = Date.now();
    const error = await openStore('redis://127.0.0.1:1/0?prefix=x:').catch((caught: unknown) => caught);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

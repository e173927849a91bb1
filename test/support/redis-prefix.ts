import { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix` (SCAN, not KEYS: the shared Redis may hold other runs' data).
 *
 * @example
 * afterEach(() => removeRedisPrefix(REDIS_URL, prefix));
 */
export async function removeRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
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

import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';

/**
 * Suites that need a real Redis or a real Chromium skip on a laptop without them (saying why),
 * and must run under CI=true: there a missing dependency is a failure, never a silent skip.
 */
function unavailable(what: string, reason: string): false {
  if (process.env.CI === 'true') {
    throw new Error(`${what} is required under CI=true but unavailable: ${reason}`);
  }
  console.warn(`[skip] ${what} suites skipped: ${reason}`);
  return false;
}

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when headless Chromium can be launched from /usr/bin/chromium. */
export function requireChromium(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  return unavailable('Chromium', `${CHROMIUM_PATH} not found (apt-get install chromium)`);
}

/** True when Redis answers PING at REDIS_URL within a second. */
export async function requireRedis(url = REDIS_URL): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    return unavailable('Redis', `${url} did not answer PING (${(error as Error).message})`);
  } finally {
    redis.disconnect();
  }
}

import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { withoutCredentials } from '../process/startup-summary.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/with-timeout.js';
import type { DoctorCheck } from './doctor-check.js';

const isRedisUrl = (url: string) => /^rediss?:\/\//.test(url);

/**
 * STORE_URL opens, takes a write and reads it back: a dedupe key claimed, refused a second time
 * (so the write is really there), then released, so nothing is left behind.
 */
export const storeCheck: DoctorCheck = {
  id: 'store',
  title: 'Store',
  async run(context) {
    const { url } = context.config.store;
    const shown = withoutCredentials(url);
    let store: Store | undefined;
    try {
      const opened = withTimeout(
        openStore(url, { instanceId: 'doctor' }),
        context.timeouts.storeMs,
        () => new Error(`did not open within ${context.timeouts.storeMs} ms`),
      );
      // A store that opens after the timeout is still closed, so the doctor can exit.
      opened.catch(() => {});
      store = await opened;
      const key = `doctor:${randomUUID()}`;
      const claimed = await store.claimKey(key, 60_000);
      const claimedAgain = await store.claimKey(key, 60_000);
      await store.releaseKey(key);
      if (!claimed || claimedAgain) {
        return { status: 'fail', summary: `${shown} accepted a write but did not keep it` };
      }
      return { status: 'pass', summary: `${shown} opens, takes a write and reads it back (${store.kind})` };
    } catch (error) {
      const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined;
      return {
        status: 'fail',
        summary: `${shown}: ${errorMessage(error)}`,
        fix:
          path === undefined || path === ':memory:'
            ? 'Start Redis or correct STORE_URL (redis://host:port); the Redis check says more'
            : `The directory ${dirname(resolve(path))} must exist (or be creatable) and be writable by ${userInfo().username}; in Docker mount a volume there`,
      };
    } finally {
      await store?.close().catch(() => {});
    }
  },
};

/** Redis answers, and keeps what the bot writes: persistence on, nothing evicted. */
export const redisCheck: DoctorCheck = {
  id: 'redis',
  title: 'Redis',
  async run(context) {
    const { url } = context.config.store;
    if (!isRedisUrl(url)) return { status: 'skip', summary: 'not configured (STORE_URL is SQLite)' };
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: context.timeouts.storeMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    // Connection errors arrive through connect(); without a listener ioredis would also print them.
    redis.on('error', () => {});
    try {
      await redis.connect();
      await redis.ping();
      const info = parseInfo(await redis.info());
      const version = info.get('redis_version') ?? 'unknown';
      const problems: string[] = [];
      const fixes: string[] = [];
      if (info.get('aof_enabled') === '0') {
        problems.push('no append-only file: a Redis restart can lose accepted messages');
        fixes.push('appendonly yes (CONFIG SET appendonly yes, and in redis.conf)');
      }
      const policy = info.get('maxmemory_policy');
      if (policy !== undefined && policy !== 'noeviction') {
        problems.push(`maxmemory-policy ${policy}: Redis may evict jobs and dedupe keys`);
        fixes.push('maxmemory-policy noeviction');
      }
      const summary = `${withoutCredentials(url)} answers (Redis ${version})`;
      if (problems.length > 0) {
        return { status: 'warn', summary: `${summary}; ${problems.join('; ')}`, fix: `Set ${fixes.join(' and ')}` };
      }
      return { status: 'pass', summary: `${summary}, append-only file on, no eviction` };
    } catch (error) {
      return {
        status: 'fail',
        summary: `${withoutCredentials(url)} does not answer: ${errorMessage(error)}`,
        fix: 'Start Redis (docker compose up -d redis) or correct STORE_URL; a password goes in the URL as redis://:password@host:6379',
      };
    } finally {
      redis.disconnect();
    }
  },
};

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

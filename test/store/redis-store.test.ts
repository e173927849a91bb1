import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import { StoreUnavailableError } from '../../lib/store/store.js';
import { requireRedisServer, startPrivateRedis } from '../support/private-redis.js';
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

  it("moves the chats of the index every app shared into their apps' indexes, keeping the newer change", async () => {
    const prefix = `shared-index:${randomUUID()}:`;
    const url = `${REDIS_URL}/0?prefix=${prefix}`;
    const redis = new Redis(REDIS_URL);
    const store = await openStore(url);
    try {
      const T0 = 1_700_000_000_000;
      const entry = (chatId: string, version: number, at: number) => ({
        chatId,
        version,
        settings: { version },
        changedBy: 'ou_admin',
        change: 'set',
        at,
      });
      // Chats saved before there was an index per app: each chat's versions, and one index of all.
      const written = [entry('oc_d', 1, T0 + 1), entry('app:alpha:oc_a', 1, T0 + 2), entry('oc_gone', 1, T0 + 3)];
      for (const each of written) {
        await redis.zadd(`${prefix}chat-settings:${each.chatId}`, each.version, JSON.stringify(each));
        await redis.zadd(`${prefix}chat-settings-index`, each.at, each.chatId);
      }
      // One chat changed again since by a new instance, one deleted by an old one (its index kept it).
      expect(await store.saveChatSettings(entry('oc_d', 2, T0 + 10), 10)).toBe(true);
      await redis.del(`${prefix}chat-settings:oc_gone`);

      expect(await store.listChatSettings('default', 10)).toEqual([entry('oc_d', 2, T0 + 10)]);
      expect(await store.listChatSettings('alpha', 10)).toEqual([entry('app:alpha:oc_a', 1, T0 + 2)]);
      expect(await redis.exists(`${prefix}chat-settings-index`)).toBe(0);
      expect(await redis.zrange(`${prefix}chat-settings-index:default`, '0', '-1')).toEqual(['oc_d']);
      expect(await store.saveChatSettings(entry('oc_new', 1, T0 + 20), 10)).toBe(true);
      expect((await store.listChatSettings('default', 1)).map((each) => each.chatId)).toEqual(['oc_new']);
    } finally {
      await store.close();
      redis.disconnect();
      await removePrefix(url);
    }
  });

  it.runIf(requireRedisServer())('sends scripts by hash, and loads them again when Redis forgot them', async () => {
    const redis = await startPrivateRedis();
    const store = await openStore(`${redis.url}/0?prefix=sha:`);
    const admin = new Redis(redis.url);
    const calls = async (command: 'eval' | 'evalsha') => {
      const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await admin.info('commandstats'));
      return Number(match?.[1] ?? 0);
    };
    try {
      const T0 = 1_700_000_000_000;
      const admission = (index: number) => ({
        keys: [`event:e${index}`],
        ttlMs: 60_000,
        job: { id: `message:m${index}`, lane: 'chat', kind: 'answer', payload: { index } },
      });
      for (let index = 0; index < 20; index++) {
        expect(await store.admit(admission(index), T0)).toEqual({ status: 'enqueued' });
      }
      // One EVAL loaded the script; every other call sent only its hash.
      expect(await calls('eval')).toBe(1);
      expect(await calls('evalsha')).toBe(20);

      await admin.script('FLUSH');
      expect(await store.admit(admission(20), T0)).toEqual({ status: 'enqueued' });
      expect(await store.claimNextJob({ owner: 'w', leaseMs: 1_000, now: T0 + 1 })).toMatchObject({ id: 'message:m0' });
      expect(await calls('eval')).toBe(3);
    } finally {
      admin.disconnect();
      await store.close();
      await redis.close();
    }
  });

  it('fails fast with StoreUnavailableError when Redis cannot be reached', async () => {
    const started = Date.now();
    const error = await openStore('redis://127.0.0.1:1/0?prefix=x:').catch((caught: unknown) => caught);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

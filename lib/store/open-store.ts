import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from './store.js';

/**
 * Opens the store named by STORE_URL: `sqlite:PATH`, `sqlite::memory:` or `redis://…`.
 * Redis is loaded only when asked for, so a single-process install never touches ioredis.
 */
export async function openStore(url: string, options: { instanceId?: string } = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const { openSqliteStore } = await import('./sqlite-store.js');
    return openSqliteStore(path);
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const { openRedisStore } = await import('./redis-store.js');
    return openRedisStore(url, options);
  }
  throw new Error(`Unsupported STORE_URL "${url}": use sqlite:PATH, sqlite::memory: or redis://host:port`);
}

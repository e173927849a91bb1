import type { Store } from './store.js';

// Placeholder until the scale-out issue lands the Redis adapter; STORE_URL=redis://… fails loudly.
export async function openRedisStore(_url: string, _options: { instanceId?: string } = {}): Promise<Store> {
  throw new Error('STORE_URL=redis://… is not supported by this build yet: use sqlite:PATH');
}

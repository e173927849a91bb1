import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DownloadedResource } from './lark-resource.js';

/**
 * Downloaded resources kept on disk for one job, so a retry or a crash-resume of the same job
 * reads the file again instead of downloading it twice. One folder per job (`purge` deletes it
 * when the job is done); bounded in total bytes (oldest folders go first) and in age (a job that
 * died without finishing is swept after `maxAgeMs`).
 *
 * @example
 * const cache = createResourceCache({ dir: '/var/lib/bot/attachments' });
 * const hit = await cache.get(jobId, fileKey) ?? await download().then((r) => cache.put(jobId, fileKey, r));
 * await cache.purge(jobId); // the job finished
 */
export interface ResourceCache {
  get(jobId: string, key: string): Promise<DownloadedResource | undefined>;
  /** Stores the resource (best effort: a full or read-only disk only costs the cache) and returns it. */
  put(jobId: string, key: string, resource: DownloadedResource): Promise<DownloadedResource>;
  purge(jobId: string): Promise<void>;
}

export interface ResourceCacheOptions {
  /** Default: `<tmpdir>/feishu-bot-attachments`. */
  dir?: string;
  /** All jobs' files together (default 500 MB). */
  maxBytes?: number;
  /** Folders older than this are swept (default 24 h). */
  maxAgeMs?: number;
  now?: () => number;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32);

interface Meta {
  contentType?: string;
  fileName?: string;
}

export function createResourceCache({
  dir = join(tmpdir(), 'feishu-bot-attachments'),
  maxBytes = 500_000_000,
  maxAgeMs = 24 * 3_600_000,
  now = Date.now,
}: ResourceCacheOptions = {}): ResourceCache {
  const jobDir = (jobId: string) => join(dir, hash(jobId));

  /** Frees room for `incoming` bytes: swept by age first, then oldest folders until it fits. */
  async function makeRoom(incoming: number, keep: string): Promise<void> {
    let entries: { path: string; bytes: number; mtimeMs: number }[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      let bytes = 0;
      let mtimeMs = 0;
      for (const file of await readdir(path).catch(() => [] as string[])) {
        const info = await stat(join(path, file)).catch(() => undefined);
        if (info === undefined) continue;
        // The budget is for the files themselves; a few bytes of metadata beside each do not count.
        if (file.endsWith('.bin')) bytes += info.size;
        mtimeMs = Math.max(mtimeMs, info.mtimeMs);
      }
      entries.push({ path, bytes, mtimeMs });
    }
    const expired = entries.filter((entry) => now() - entry.mtimeMs > maxAgeMs && entry.path !== keep);
    for (const entry of expired) await rm(entry.path, { recursive: true, force: true });
    entries = entries.filter((entry) => !expired.includes(entry)).sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    for (const entry of entries) {
      if (total + incoming <= maxBytes) break;
      if (entry.path === keep) continue;
      await rm(entry.path, { recursive: true, force: true });
      total -= entry.bytes;
    }
  }

  return {
    async get(jobId, key) {
      const base = join(jobDir(jobId), hash(key));
      try {
        const [bytes, meta] = await Promise.all([readFile(`${base}.bin`), readFile(`${base}.json`, 'utf8')]);
        const { contentType, fileName } = JSON.parse(meta) as Meta;
        return { bytes, contentType, fileName };
      } catch {
        return undefined;
      }
    },
    async put(jobId, key, resource) {
      if (resource.bytes.byteLength > maxBytes) return resource;
      const folder = jobDir(jobId);
      const base = join(folder, hash(key));
      try {
        await makeRoom(resource.bytes.byteLength, folder);
        await mkdir(folder, { recursive: true });
        const meta: Meta = {
          ...(resource.contentType === undefined ? {} : { contentType: resource.contentType }),
          ...(resource.fileName === undefined ? {} : { fileName: resource.fileName }),
        };
        // The bytes first: a reader that sees the meta file finds whole bytes.
        await writeFile(`${base}.bin`, resource.bytes);
        await writeFile(`${base}.json`, JSON.stringify(meta));
      } catch {
        // A cache that cannot write only means a retry downloads again.
      }
      return resource;
    },
    async purge(jobId) {
      await rm(jobDir(jobId), { recursive: true, force: true });
    },
  };
}

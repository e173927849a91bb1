import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createResourceCache } from './resource-cache.js';

const dirs: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'resource-cache-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const resource = (size: number, fileName = 'a.pdf') => ({
  bytes: Buffer.alloc(size, 7),
  contentType: 'application/pdf',
  fileName,
});

describe('createResourceCache', () => {
  it('gives a job its downloads back, and nothing after the job is purged', async () => {
    const cache = createResourceCache({ dir: folder() });
    expect(await cache.get('job-1', 'file_a')).toBeUndefined();
    await cache.put('job-1', 'file_a', resource(10, '报告.pdf'));
    expect(await cache.get('job-1', 'file_a')).toEqual(resource(10, '报告.pdf'));
    expect(await cache.get('job-2', 'file_a')).toBeUndefined();
    await cache.purge('job-1');
    expect(await cache.get('job-1', 'file_a')).toBeUndefined();
  });

  it('stays within its byte budget by dropping the oldest jobs first', async () => {
    const dir = folder();
    let clock = 1_000;
    const cache = createResourceCache({ dir, maxBytes: 25, now: () => clock });
    await cache.put('old', 'k', resource(10));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.put('middle', 'k', resource(10));
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock += 10;
    await cache.put('new', 'k', resource(10));
    expect(await cache.get('old', 'k')).toBeUndefined();
    expect(await cache.get('middle', 'k')).toBeDefined();
    expect(await cache.get('new', 'k')).toBeDefined();
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('sweeps folders older than its age limit when it writes', async () => {
    let clock = Date.now();
    const cache = createResourceCache({ dir: folder(), maxAgeMs: 60_000, now: () => clock });
    await cache.put('abandoned', 'k', resource(5));
    clock += 120_000;
    await cache.put('fresh', 'k', resource(5));
    expect(await cache.get('abandoned', 'k')).toBeUndefined();
    expect(await cache.get('fresh', 'k')).toBeDefined();
  });

  it('never stores a file larger than the whole budget', async () => {
    const dir = folder();
    const cache = createResourceCache({ dir, maxBytes: 5 });
    await cache.put('job', 'k', resource(10));
    expect(await cache.get('job', 'k')).toBeUndefined();
  });
});

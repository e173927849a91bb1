import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteLogSync } from './sqlite-log-sync.js';

describe('createSqliteLogSync', () => {
  const directory = mkdtempSync(join(tmpdir(), 'log-sync-test-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const path = join(directory, 'bot.db');
  writeFileSync(`${path}-wal`, 'frames');

  /** A flush the test completes by hand, recording when each one started. */
  function heldFlushes() {
    const started: (() => void)[] = [];
    return {
      started,
      flush: () => new Promise<void>((resolve) => started.push(resolve)),
    };
  }

  it('runs one flush at a time; the syncs asked for meanwhile share the next one, which starts after', async () => {
    const { started, flush } = heldFlushes();
    const log = createSqliteLogSync({ path, flush });
    const first = log.sync();
    await Promise.resolve();
    expect(started).toHaveLength(1);
    // Written while the first flush runs: that flush may have started before these frames.
    const second = log.sync();
    const third = log.sync();
    expect(second).toBe(third);
    let secondDone = false;
    void second.then(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toHaveLength(1);
    started[0]?.();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toHaveLength(2);
    expect(secondDone).toBe(false);
    started[1]?.();
    await second;
    await log.close();
  });

  it('with maxFlushes 2, starts a flush at once while another runs; a third waits for one to end', async () => {
    const { started, flush } = heldFlushes();
    const log = createSqliteLogSync({ path, flush, maxFlushes: 2 });
    const first = log.sync();
    await Promise.resolve();
    const second = log.sync();
    await Promise.resolve();
    expect(started).toHaveLength(2);
    const third = log.sync();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toHaveLength(2);
    // The later flush may end first: the waiting sync starts as soon as either ends.
    started[1]?.();
    await second;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toHaveLength(3);
    started[0]?.();
    started[2]?.();
    await Promise.all([first, third]);
    await log.close();
  });

  it('rejects a sync whose flush failed, and the next sync flushes again', async () => {
    let calls = 0;
    const log = createSqliteLogSync({
      path,
      flush: async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    await expect(log.sync()).rejects.toThrow('EIO');
    await expect(log.sync()).resolves.toBeUndefined();
    expect(calls).toBe(2);
    await log.close();
  });

  it('waits for running flushes on close, then refuses', async () => {
    const { started, flush } = heldFlushes();
    const log = createSqliteLogSync({ path, flush });
    const pending = log.sync();
    await Promise.resolve();
    const closing = log.close();
    started[0]?.();
    await pending;
    await closing;
    await expect(log.sync()).rejects.toThrow('closed');
  });
});

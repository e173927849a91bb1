import { fdatasync, fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import { sqliteMigrations } from '../../lib/store/sqlite-schema.js';
import {
  CLAIM_NEXT_JOB_SQL,
  LIST_CHAT_SETTINGS_SQL,
  LIST_JOBS_SQL,
  NEXT_QUEUE_ORDER_SQL,
  PURGE_JOBS_SQL,
} from '../../lib/store/sqlite-statements.js';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { type Store, StoreUnavailableError } from '../../lib/store/store.js';
import { describeStoreConformance } from './store-conformance.js';

const directory = mkdtempSync(join(tmpdir(), 'sqlite-store-test-'));
let fileNumber = 0;
const newPath = () => {
  fileNumber += 1;
  return join(directory, `store-${process.pid}-${fileNumber}.db`);
};
const removeDatabase = (path: string) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
};

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeStoreConformance('sqlite', {
  createStoreUrl: () => `sqlite:${newPath()}`,
  cleanup: (url) => removeDatabase(url.slice('sqlite:'.length)),
});

describe('SQLite store specifics', () => {
  const T0 = 1_700_000_000_000;
  const toClose: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const each of toClose.splice(0)) await each.close();
  });
  function open(path: string, options?: Parameters<typeof openSqliteStore>[1]): Store {
    const store = openSqliteStore(path, options);
    toClose.push(store);
    return store;
  }
  function inspect(path: string): Database.Database {
    const db = new Database(path, { readonly: true });
    toClose.push(db);
    return db;
  }

  /** A store file as an older release left it: the schema up to `version`, its user_version set. */
  function fileAtVersion(version: number): { path: string; db: Database.Database } {
    const path = newPath();
    const db = new Database(path);
    for (const migration of sqliteMigrations.filter((each) => each.version <= version)) db.exec(migration.sql);
    db.pragma(`user_version = ${version}`);
    return { path, db };
  }

  it('runs in WAL mode with a busy timeout', async () => {
    const path = newPath();
    open(path);
    const db = new Database(path);
    toClose.push(db);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('answers a write only after its commit was flushed to disk, so an acknowledged event survives a power cut', async () => {
    const path = newPath();
    const flushed: number[] = [];
    let releaseFlush = () => {};
    const store = open(path, {
      // The real fdatasync, held until the test lets it run.
      flushLog: (fd) =>
        new Promise<void>((resolve, reject) => {
          releaseFlush = () => fdatasync(fd, (error) => (error ? reject(error) : resolve()));
        }).then(() => {
          flushed.push(fstatSync(fd).ino);
        }),
    });
    let settled = false;
    const write = store.enqueue({ id: 'durable', lane: 'lane', kind: 'answer', payload: {} }, T0).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Committed (another connection sees it), but not answered while the log is not on disk.
    expect(inspect(path).prepare("SELECT id FROM jobs WHERE id = 'durable'").get()).toEqual({ id: 'durable' });
    expect(settled).toBe(false);
    releaseFlush();
    await write;
    // The flushed file is the store's write-ahead log.
    expect(flushed).toEqual([statSync(`${path}-wal`).ino]);
  });

  it('folds the WAL into the database file from a background worker, not inside commits', async () => {
    const path = newPath();
    const store = open(path, { checkpointIntervalMs: 50 });
    const { size: before } = statSync(path);
    const payload = { text: 'x'.repeat(2_000) };
    for (let index = 0; index < 30; index++) {
      await store.enqueue({ id: `job-${index}`, lane: `lane-${index}`, kind: 'answer', payload }, T0 + index);
    }
    // About 300 WAL pages: below the 1000 at which SQLite would checkpoint by itself, so only
    // the worker can move the jobs into the main file while the store is open.
    const deadline = Date.now() + 10_000;
    while (statSync(path).size < before + 60_000) {
      if (Date.now() > deadline) throw new Error(`the database file stayed at ${statSync(path).size} bytes`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await store.countJobs()).toMatchObject({ pending: 30 });
  });

  it('keeps the WAL bounded under writes that never pause', { timeout: 45_000 }, async () => {
    const path = newPath();
    const walLimitBytes = 512 * 1024;
    const store = open(path, { checkpointIntervalMs: 20, walLimitBytes });
    const payload = { text: 'x'.repeat(3_000) };
    let largest = 0;
    let previous = 0;
    let appended = 0;
    let truncations = 0;
    let sequence = 0;
    // Until enough went through the log (every commit waits for its flush to disk, whose speed
    // depends on the machine), within a deadline.
    // Long enough that an unbounded log (peak = everything appended) cannot pass the peak check
    // below on a fast machine, where more arrives between two truncations.
    const until = Date.now() + 30_000;
    while (appended <= 60 * walLimitBytes && Date.now() < until) {
      // Back-to-back group commits, as under load: a PASSIVE checkpoint never catches up.
      await Promise.all(
        Array.from({ length: 20 }, () => {
          sequence += 1;
          return store.enqueue({ id: `j${sequence}`, lane: `l${sequence % 50}`, kind: 'answer', payload }, T0);
        }),
      );
      const size = statSync(`${path}-wal`).size;
      if (size < previous) truncations += 1;
      else appended += size - previous;
      previous = size;
      largest = Math.max(largest, size);
    }
    // The log was emptied again and again, so it never held more than a fraction of what went
    // through it. Its peak is the limit plus what arrives before the writer gets to the TRUNCATE
    // (one checkpoint interval and a turn of the loop), which depends on the machine's speed;
    // without the writer's TRUNCATE the peak is everything appended (about 500 MB here).
    expect(appended).toBeGreaterThan(20 * walLimitBytes);
    expect(truncations).toBeGreaterThan(3);
    expect(largest).toBeLessThan(appended / 3);
    expect((await store.countJobs()).pending).toBe(sequence);
  });

  it('applies migrations once and reopening a file changes nothing', async () => {
    const path = newPath();
    const first = open(path);
    await first.enqueue({ id: 'j1', lane: 'a', kind: 'answer', payload: { n: 1 } }, T0);
    await first.close();
    const schemaAfterFirst = inspect(path).prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();

    for (let reopen = 0; reopen < 2; reopen += 1) {
      const again = open(path);
      expect(await again.getJob('j1')).toMatchObject({ payload: { n: 1 }, status: 'pending' });
      await again.close();
    }
    const db = inspect(path);
    expect(db.pragma('user_version', { simple: true })).toBe(sqliteMigrations.at(-1)?.version);
    expect(db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()).toEqual(schemaAfterFirst);
  });

  it('refuses a file written by a newer schema instead of corrupting it', async () => {
    const path = newPath();
    await open(path).close();
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/schema version 999 is newer/);
  });

  it('works in memory, each in-memory store on its own', async () => {
    const one = await openStore('sqlite::memory:');
    const two = await openStore('sqlite::memory:');
    toClose.push(one, two);
    expect(one.kind).toBe('sqlite');
    expect(await one.claimKey('k', 1_000, T0)).toBe(true);
    expect(await two.claimKey('k', 1_000, T0)).toBe(true);
    await one.enqueue({ id: 'j1', lane: 'a', kind: 'answer', payload: null }, T0);
    expect(await one.claimNextJob({ owner: 'w', leaseMs: 1_000, now: T0 })).toMatchObject({ id: 'j1', payload: null });
    expect(await two.countJobs()).toEqual({ pending: 0, leased: 0, done: 0, dead: 0 });
  });

  it('survives a restart mid-job: the lease lapses and another worker resumes it', async () => {
    const path = newPath();
    const before = open(path);
    await before.enqueue({ id: 'j1', lane: 'a', kind: 'answer', payload: { text: 'hi' } }, T0);
    await before.claimNextJob({ owner: 'old-process', leaseMs: 30_000, now: T0 });
    await before.saveCheckpoint('j1', 'old-process', { cardId: 'card-1', sequence: 4 });
    // No complete: the process "dies" here.
    await before.close();

    const after = open(path);
    expect(await after.claimNextJob({ owner: 'new-process', leaseMs: 30_000, now: T0 + 1_000 })).toBeNull();
    expect(await after.claimNextJob({ owner: 'new-process', leaseMs: 30_000, now: T0 + 30_001 })).toMatchObject({
      id: 'j1',
      attempts: 2,
      checkpoint: { cardId: 'card-1', sequence: 4 },
    });
  });

  it('sweeps expired dedupe keys and counter windows so the tables stay bounded', async () => {
    const path = newPath();
    const store = open(path, { sweepEvery: 10, sweepLimit: 1_000 });
    for (let index = 0; index < 40; index += 1) await store.claimKey(`old-${index}`, 1_000, T0);
    for (let index = 0; index < 40; index += 1) await store.incrementCounter(`old-${index}`, 1_000, T0);
    for (let index = 0; index < 10; index += 1) await store.claimKey(`new-${index}`, 1_000, T0 + 5_000);
    for (let index = 0; index < 10; index += 1) await store.incrementCounter(`new-${index}`, 1_000, T0 + 5_000);
    const db = inspect(path);
    expect(db.prepare('SELECT count(*) AS n FROM dedupe_keys').get()).toEqual({ n: 10 });
    expect(db.prepare('SELECT count(*) AS n FROM counters').get()).toEqual({ n: 10 });
  });

  it('claims through indexes, never a scan of the whole job table', async () => {
    const path = newPath();
    const store = open(path);
    await store.enqueue({ id: 'probe', lane: 'a', kind: 'answer', payload: null }, T0);
    await store.close();
    // 20k done jobs, as a busy bot accumulates between purges.
    const writer = new Database(path);
    writer.transaction(() => {
      const insert = writer.prepare(`
        INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
        VALUES (?, ?, 'answer', 'null', 'done', 1, 0, ?, 0, 0)`);
      for (let index = 0; index < 20_000; index += 1) insert.run(`done-${index}`, `lane-${index % 500}`, 100 + index);
    })();
    writer.exec('ANALYZE');
    const plan = writer
      .prepare(`EXPLAIN QUERY PLAN ${CLAIM_NEXT_JOB_SQL}`)
      .all({ now: T0, kinds: null })
      .map((row) => (row as { detail: string }).detail);
    writer.close();
    expect(
      plan.filter((detail) => /^SCAN (j|earlier)\b/.test(detail) && !/jobs_unfinished_order/.test(detail)),
    ).toEqual([]);
    // Walked in queue order through unfinished jobs only, never sorted: the first claimable head ends it.
    expect(plan.some((detail) => /(SCAN|SEARCH) j USING INDEX jobs_unfinished_order/.test(detail))).toBe(true);
    expect(plan.filter((detail) => /TEMP B-TREE/.test(detail))).toEqual([]);
    expect(plan.some((detail) => /SEARCH earlier USING INDEX jobs_unfinished_lane/.test(detail))).toBe(true);

    const reopened = open(path);
    expect(await reopened.claimNextJob({ owner: 'w', leaseMs: 1_000, now: T0 })).toMatchObject({ id: 'probe' });
    expect(await reopened.countJobs()).toEqual({ pending: 0, leased: 1, done: 20_000, dead: 0 });
  });

  it('counts jobs from a tally kept in step with every change, not by reading the job table', async () => {
    const path = newPath();
    const store = open(path);
    const scan = () => {
      const counts = { pending: 0, leased: 0, done: 0, dead: 0 };
      for (const row of inspect(path).prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as {
        status: keyof typeof counts;
        n: number;
      }[]) {
        counts[row.status] = row.n;
      }
      return counts;
    };
    const job = (index: number) => ({ id: `j${index}`, lane: `lane-${index % 3}`, kind: 'answer', payload: index });
    for (let index = 0; index < 12; index += 1) await store.enqueue(job(index), T0 + index);
    await store.enqueue(job(0), T0); // a duplicate inserts nothing and counts nothing
    await store.admit({ keys: ['event:x'], ttlMs: 60_000, job: job(1) }, T0); // exists: nothing new
    expect(await store.countJobs()).toEqual({ pending: 12, leased: 0, done: 0, dead: 0 });
    const held = [];
    for (let claim = 0; claim < 3; claim += 1) {
      held.push(await store.claimNextJob({ owner: 'w', leaseMs: 1_000, now: T0 + 100 }));
    }
    const [first, second, third] = held.map((claimed) => claimed!.id);
    await store.renewLease(first!, 'w', 5_000, T0 + 200);
    await store.completeJob(first!, 'w', T0 + 300);
    await store.failJob(second!, 'w', { error: 'boom', dead: true, now: T0 + 300 });
    await store.releaseJob(third!, 'w', T0 + 300);
    expect(await store.countJobs()).toEqual(scan());
    await store.retryJob(second!, T0 + 400);
    await store.failJob('no-such-job', 'w', { error: 'x', dead: true, now: T0 });
    expect(await store.countJobs()).toEqual(scan());
    expect(await store.purgeJobs(T0 + 1_000)).toBe(1);
    expect(await store.countJobs()).toEqual(scan());
    expect(await store.countJobs()).toEqual({ pending: 11, leased: 0, done: 0, dead: 0 });
    // Changes made by any connection count, as another process's would.
    const writer = new Database(path);
    toClose.push(writer);
    writer.prepare("UPDATE jobs SET status = 'dead' WHERE id = 'j5'").run();
    writer.prepare("DELETE FROM jobs WHERE id = 'j6'").run();
    expect(await store.countJobs()).toEqual({ pending: 9, leased: 0, done: 0, dead: 1 });
    expect(await store.countJobs()).toEqual(scan());
  });

  it('counts the jobs already in a file when it upgrades it to the tally', async () => {
    const { path, db } = fileAtVersion(2);
    const insert = db.prepare(`
      INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
      VALUES (?, 'lane', 'answer', 'null', ?, 0, 0, ?, 0, 0)`);
    const statuses = ['pending', 'pending', 'leased', 'done', 'done', 'done', 'dead'];
    for (const [index, status] of statuses.entries()) insert.run(`old-${index}`, status, index + 1);
    db.close();
    const store = open(path);
    expect(await store.countJobs()).toEqual({ pending: 2, leased: 1, done: 3, dead: 1 });
  });

  it('keeps the claimed keys of a file when it moves them to a table without a rowid', async () => {
    const { path, db } = fileAtVersion(5);
    const insert = db.prepare('INSERT INTO dedupe_keys (key, expires_at) VALUES (?, ?)');
    insert.run('event:live', T0 + 60_000);
    insert.run('event:expired', T0 - 1);
    db.close();
    const store = open(path);
    // A key claimed before the upgrade still dedupes; an expired one can be claimed again.
    expect(await store.claimKey('event:live', 60_000, T0)).toBe(false);
    expect(await store.claimKey('event:expired', 60_000, T0)).toBe(true);
    expect(await store.claimKey('event:new', 60_000, T0)).toBe(true);
    expect(await store.claimKey('event:new', 60_000, T0)).toBe(false);
    await store.close();
    const after = inspect(path);
    const table = after.prepare("SELECT sql FROM sqlite_master WHERE name = 'dedupe_keys'").get() as { sql: string };
    expect(table.sql).toMatch(/WITHOUT ROWID/);
    expect(after.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'dedupe_keys' ORDER BY name").all()).toEqual([
      { name: 'dedupe_keys' },
      { name: 'dedupe_keys_expires' },
    ]);
  });

  it('upgrades a file to the two job indexes fewer, keeping its queue order and listing', async () => {
    const { path, db } = fileAtVersion(6);
    const insert = db.prepare(`
      INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
      VALUES (?, ?, 'answer', 'null', ?, 0, 0, ?, ?, ?)`);
    // A finished job far ahead in queue order, and two unfinished jobs in one lane.
    insert.run('old-done', 'lane-a', 'done', 90, T0, T0);
    insert.run('old-first', 'lane-b', 'pending', 5, T0 + 1, T0 + 1);
    insert.run('old-second', 'lane-b', 'pending', 6, T0 + 2, T0 + 2);
    db.close();
    const store = open(path);
    await store.enqueue({ id: 'new', lane: 'lane-b', kind: 'answer', payload: null }, T0 + 3);
    const indexes = inspect(path)
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' ORDER BY name")
      .all()
      .map((row) => (row as { name: string }).name);
    expect(indexes).not.toContain('jobs_created');
    expect(indexes).not.toContain('jobs_queue_order');
    // The lane keeps its order: the new job goes behind the unfinished jobs already there.
    const claimed: string[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const next = await store.claimNextJob({ owner: 'w', leaseMs: 60_000, now: T0 + 10 });
      if (next === null) break;
      claimed.push(next.id);
      await store.completeJob(next.id, 'w', T0 + 10);
    }
    expect(claimed).toEqual(['old-first', 'old-second', 'new']);
    expect((await store.listJobs({ limit: 10 })).map((each) => each.id)).toEqual([
      'new',
      'old-second',
      'old-first',
      'old-done',
    ]);
    expect((await store.listJobs({ limit: 2 })).map((each) => each.id)).toEqual(['new', 'old-second']);
  });

  it('keeps the tally when it upgrades a file to counting new pending jobs once per commit', async () => {
    const { path, db } = fileAtVersion(7);
    const insert = db.prepare(`
      INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
      VALUES (?, 'lane', 'answer', 'null', ?, 0, 0, ?, 0, 0)`);
    insert.run('old-pending', 'pending', 1);
    insert.run('old-done', 'done', 2);
    db.close();
    const store = open(path);
    const admitted = await Promise.all(
      [1, 2, 3].map((index) =>
        store.admit(
          {
            keys: [`event:${index}`],
            ttlMs: 60_000,
            job: { id: `new-${index}`, lane: 'b', kind: 'answer', payload: 1 },
          },
          T0,
        ),
      ),
    );
    expect(admitted.map((each) => each.status)).toEqual(['enqueued', 'enqueued', 'enqueued']);
    // A duplicate and an existing job add nothing.
    await store.admit(
      { keys: ['event:1'], ttlMs: 60_000, job: { id: 'new-9', lane: 'b', kind: 'answer', payload: 1 } },
      T0,
    );
    await store.enqueue({ id: 'new-1', lane: 'b', kind: 'answer', payload: 1 }, T0);
    expect(await store.countJobs()).toEqual({ pending: 4, leased: 0, done: 1, dead: 0 });
    // Rows another connection inserts in a finished state are still counted by the trigger.
    const writer = new Database(path);
    toClose.push(writer);
    writer
      .prepare(`
        INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
        VALUES ('by-hand', 'lane', 'answer', 'null', 'dead', 0, 0, 0, 0, 0)`)
      .run();
    expect(await store.countJobs()).toEqual({ pending: 4, leased: 0, done: 1, dead: 1 });
  });

  it("lists an upgraded file's chat settings per app through the app index, newest first", async () => {
    const { path, db } = fileAtVersion(8);
    const insert = db.prepare(
      "INSERT INTO chat_settings (chat_id, version, settings, changed_by, change, at) VALUES (?, ?, '{}', 'ou_admin', 'set', ?)",
    );
    // Five of alpha's chats changed after the default app's two: a listing of the newest three
    // chats of every app held none of the default app's.
    insert.run('oc_old', 1, T0 + 1);
    insert.run('oc_new', 1, T0 + 2);
    insert.run('oc_new', 2, T0 + 3);
    for (let index = 0; index < 5; index += 1) insert.run(`app:alpha:oc_${index}`, 1, T0 + 10 + index);
    db.close();
    const store = open(path);
    const listed = async (appId: string) =>
      (await store.listChatSettings(appId, 3)).map(({ chatId, version }) => `${chatId}@${version}`);
    expect(await listed('default')).toEqual(['oc_new@2', 'oc_old@1']);
    expect(await listed('alpha')).toEqual(['app:alpha:oc_4@1', 'app:alpha:oc_3@1', 'app:alpha:oc_2@1']);
    const after = inspect(path);
    const indexes = after
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'chat_settings' ORDER BY name")
      .all()
      .map((row) => (row as { name: string }).name);
    expect(indexes).toContain('chat_settings_app');
    expect(indexes).not.toContain('chat_settings_at');
    // One app's rows read in listing order from the index: no sort, no walk through other apps' rows.
    const plan = after
      .prepare(`EXPLAIN QUERY PLAN ${LIST_CHAT_SETTINGS_SQL.replace('COLUMNS', '*')}`)
      .all({ app: 'alpha', limit: 3 })
      .map((row) => (row as { detail: string }).detail);
    expect(
      plan.some((detail) => /SEARCH newest USING (COVERING )?INDEX chat_settings_app \(<expr>=\?\)/.test(detail)),
    ).toBe(true);
    expect(plan.filter((detail) => /TEMP B-TREE|^SCAN/.test(detail))).toEqual([]);
  });

  it('finds the next queue position and lists jobs through indexes, never by reading every job', async () => {
    const path = newPath();
    await open(path).close();
    const db = new Database(path);
    toClose.push(db);
    const planOf = (sql: string, parameters: Record<string, unknown>) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(parameters)
        .map((row) => (row as { detail: string }).detail);
    const next = planOf(NEXT_QUEUE_ORDER_SQL, {});
    expect(next.some((detail) => /USING (COVERING )?INDEX jobs_unfinished_order/.test(detail))).toBe(true);
    expect(next.some((detail) => /TEMP B-TREE/.test(detail))).toBe(false);
    const list = planOf(LIST_JOBS_SQL.replaceAll('COLUMNS', '*'), { limit: 10 });
    expect(
      list.filter((detail) => /SEARCH jobs USING INDEX jobs_status_created \(status=\?\)/.test(detail)),
    ).toHaveLength(4);
    expect(list.filter((detail) => /^SCAN jobs/.test(detail))).toEqual([]);
  });

  it('purges through the finished-jobs index, which claims and renewals never touch', async () => {
    const path = newPath();
    await open(path).close();
    const db = new Database(path);
    toClose.push(db);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${PURGE_JOBS_SQL}`)
      .all({ before: T0, limit: 1_000 })
      .map((row) => (row as { detail: string }).detail);
    expect(plan.some((detail) => /USING (COVERING )?INDEX jobs_finished_updated/.test(detail))).toBe(true);
    expect(plan.filter((detail) => /^SCAN jobs$/.test(detail))).toEqual([]);
    // Pending and leased jobs are not in it, so a claim or a renewal writes no entry there.
    const indexSql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'jobs_finished_updated'").get() as {
      sql: string;
    };
    expect(indexSql.sql).toMatch(/WHERE status IN \('done', 'dead'\)/);
  });

  it('rejects bad input with a clear error and stores nothing', async () => {
    const store = open(':memory:');
    await expect(store.enqueue({ id: '', lane: 'a', kind: 'answer', payload: 1 })).rejects.toThrow(
      /job.id must be a non-empty string/,
    );
    await expect(store.enqueue({ id: 'j1', lane: 'a', kind: 'answer', payload: undefined })).rejects.toThrow(
      /job.payload must be JSON-serialisable/,
    );
    await expect(store.claimKey('k', 0)).rejects.toThrow(RangeError);
    await expect(store.appendHistory('c', [{ role: 'user', content: 'x', at: T0 }], 0)).rejects.toThrow(
      /maxMessages must be a positive integer/,
    );
    await expect(
      store.appendHistory(
        'c',
        [
          { role: 'user', content: 'ok', at: T0 },
          { role: 'robot' as 'user', content: 'x', at: T0 },
        ],
        5,
      ),
    ).rejects.toThrow(/messages\[1\]\.role/);
    await expect(store.putRecord('c', 'r', () => 1, 5)).rejects.toThrow(/record value must be JSON-serialisable/);
    await expect(store.readHistory('c', -1)).rejects.toThrow(/limit must be a non-negative integer/);
    await expect(store.incrementCounter('k', 0.5)).rejects.toThrow(/windowMs/);

    expect(await store.countJobs()).toEqual({ pending: 0, leased: 0, done: 0, dead: 0 });
    expect(await store.readHistory('c', 10)).toEqual([]);
    expect(await store.listRecords('c', 10)).toEqual([]);
  });

  describe('group commit', () => {
    const job = (id: string) => ({ id, lane: `lane-${id}`, kind: 'answer', payload: { id } });

    it('commits the writes of one event-loop turn in one transaction, each settling after it', async () => {
      const commits: number[] = [];
      const store = open(newPath(), { onCommit: (writes) => commits.push(writes) });
      const writes = Array.from({ length: 50 }, (_, index) => store.enqueue(job(`j${index}`), T0 + index));
      writes.push(store.claimKey('event:e1', 60_000, T0));
      expect(commits).toEqual([]);
      expect(await Promise.all(writes)).toEqual(Array.from({ length: 51 }, () => true));
      expect(commits).toEqual([51]);
      // Awaited one by one, each write is its own turn and its own commit.
      await store.enqueue(job('later-1'), T0 + 100);
      await store.enqueue(job('later-2'), T0 + 101);
      expect(commits).toEqual([51, 1, 1]);
    });

    it('splits a long queue into transactions of at most maxBatchWrites', async () => {
      const commits: number[] = [];
      const store = open(':memory:', { maxBatchWrites: 20, onCommit: (writes) => commits.push(writes) });
      await Promise.all(Array.from({ length: 45 }, (_, index) => store.enqueue(job(`j${index}`), T0)));
      expect(commits).toEqual([20, 20, 5]);
      expect((await store.countJobs()).pending).toBe(45);
    });

    it('fails a bad write alone: the others of its transaction are committed', async () => {
      const store = open(':memory:');
      const results = await Promise.allSettled([
        store.enqueue(job('good-1'), T0),
        store.enqueue({ ...job('bad'), payload: undefined }, T0),
        store.appendHistory('c', [{ role: 'robot' as 'user', content: 'x', at: T0 }], 5),
        store.enqueue(job('good-2'), T0),
      ]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((await store.countJobs()).pending).toBe(2);
      expect(await store.readHistory('c', 10)).toEqual([]);
    });

    it('rejects every write of a transaction that could not commit, as unavailable, and stores none', async () => {
      const path = newPath();
      const store = open(path, { lockWaitMs: 50 });
      await store.enqueue(job('before'), T0);
      // Another process holds the write lock past our busy timeout.
      const other = new Database(path);
      toClose.push(other);
      other.exec('BEGIN IMMEDIATE');
      const results = await Promise.allSettled([store.enqueue(job('a'), T0), store.claimKey('k', 60_000, T0)]);
      other.exec('ROLLBACK');
      for (const result of results) {
        expect(result.status).toBe('rejected');
        if (result.status === 'rejected') expect(StoreUnavailableError.isInstance(result.reason)).toBe(true);
      }
      expect(await store.getJob('a')).toBeNull();
      expect(await store.claimKey('k', 60_000, T0)).toBe(true);
    });

    it("waits for another connection's write lock without holding the event loop, then commits", async () => {
      const path = newPath();
      const store = open(path, { lockWaitMs: 30_000 });
      await store.enqueue(job('before'), T0);
      const other = new Database(path);
      toClose.push(other);
      other.exec('BEGIN IMMEDIATE');
      let settled = false;
      const write = store.enqueue(job('waited'), T0).then(() => {
        settled = true;
      });
      // Timers keep firing while the write waits: the loop is free (a synchronous busy wait
      // would hold it until the lock is released, which this same thread does below).
      let longestGap = 0;
      let last = performance.now();
      for (let tick = 0; tick < 20; tick++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        longestGap = Math.max(longestGap, performance.now() - last);
        last = performance.now();
      }
      expect(longestGap).toBeLessThan(1_000);
      expect(settled).toBe(false);
      other.exec('COMMIT');
      await write;
      expect(await store.getJob('waited')).toMatchObject({ status: 'pending' });
    });

    it('keeps call order: a read asked for after a write sees it', async () => {
      const store = open(':memory:');
      const written = store.enqueue(job('j1'), T0);
      const read = store.getJob('j1');
      expect(await read).toMatchObject({ id: 'j1', status: 'pending' });
      expect(await written).toBe(true);
    });

    it('bounds the writes waiting for a commit: beyond the bound a write is unavailable at once', async () => {
      const store = open(':memory:', { maxQueuedWrites: 3 });
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, index) => store.claimKey(`k${index}`, 60_000, T0)),
      );
      expect(results.map((result) => result.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'rejected',
      ]);
      const rejected = results[3];
      expect(rejected?.status === 'rejected' && StoreUnavailableError.isInstance(rejected.reason)).toBe(true);
    });

    it('commits the writes still waiting when the store is closed', async () => {
      const path = newPath();
      const store = openSqliteStore(path);
      const pending = store.enqueue(job('last'), T0);
      await store.close();
      expect(await pending).toBe(true);
      const reopened = open(path);
      expect(await reopened.getJob('last')).toMatchObject({ status: 'pending' });
    });
  });

  it('reports a closed store as unavailable so callers answer 503', async () => {
    const store = open(':memory:');
    await store.close();
    const error = await store.ping().catch((caught: unknown) => caught);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
  });

  it('reports an unopenable file as unavailable', () => {
    let caught: unknown;
    try {
      openSqliteStore(join(directory, 'no-such-directory', 'x.db'));
    } catch (error) {
      caught = error;
    }
    expect(StoreUnavailableError.isInstance(caught)).toBe(true);
  });
});

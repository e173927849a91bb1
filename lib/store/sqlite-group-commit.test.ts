import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createGroupCommit, type GroupCommitOptions } from './sqlite-group-commit.js';
import { StoreUnavailableError } from './store.js';

describe('createGroupCommit', () => {
  const databases: Database.Database[] = [];
  afterEach(() => {
    for (const db of databases.splice(0)) db.close();
  });

  function setUp(options: Omit<GroupCommitOptions, 'db'> = {}) {
    const db = new Database(':memory:');
    databases.push(db);
    db.pragma('foreign_keys = ON');
    db.exec(`
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);`);
    const commits: number[] = [];
    const group = createGroupCommit({ db, onCommit: (writes) => commits.push(writes), ...options });
    const insert = db.prepare('INSERT INTO parent (id) VALUES (?)');
    const insertParent = (id: number) => group.write('insertParent', () => insert.run(id).changes);
    const parents = () =>
      (db.prepare('SELECT id FROM parent ORDER BY id').all() as { id: number }[]).map((row) => row.id);
    return { db, group, commits, insertParent, parents };
  }

  it('commits the writes of one turn in one transaction and settles them after the COMMIT', async () => {
    const { db, commits, insertParent, parents } = setUp();
    let settled = 0;
    const writes = [1, 2, 3].map((id) => insertParent(id).then((changes) => (settled += changes)));
    // Queued, not run: nothing is written or settled within the turn that asked.
    expect(parents()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    await Promise.all(writes);
    expect(settled).toBe(3);
    expect(commits).toEqual([3]);
    expect(parents()).toEqual([1, 2, 3]);
  });

  it('runs beforeCommit once per batch inside its transaction, after onBegin and every write of that run', async () => {
    const calls: string[] = [];
    let db: Database.Database | undefined;
    const { group, insertParent, parents } = setUp({
      onBegin: () => calls.push('begin'),
      beforeCommit: () => {
        calls.push(`before commit (in a transaction: ${db?.inTransaction})`);
      },
    });
    db = databases.at(-1);
    await Promise.all([insertParent(1), insertParent(2)]);
    expect(calls).toEqual(['begin', 'before commit (in a transaction: true)']);
    // A throwing write rolls the batch back: it begins again (onBegin resets what the first run counted).
    calls.length = 0;
    const results = await Promise.allSettled([
      insertParent(3),
      group.write('fails', () => {
        throw new Error('no');
      }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect(calls).toEqual(['begin', 'begin', 'before commit (in a transaction: true)']);
    expect(parents()).toEqual([1, 2, 3]);
  });

  it('fails the whole batch when beforeCommit throws, keeping none of it', async () => {
    let fail = true;
    const { insertParent, parents } = setUp({
      beforeCommit: () => {
        if (fail) throw new Error('disk full');
      },
    });
    const results = await Promise.allSettled([insertParent(1), insertParent(2)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(parents()).toEqual([]);
    fail = false;
    await insertParent(3);
    expect(parents()).toEqual([3]);
  });

  it('splits a long queue into transactions of at most maxBatchWrites, in order', async () => {
    const { commits, insertParent, parents } = setUp({ maxBatchWrites: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, index) => insertParent(index + 1)));
    expect(commits).toEqual([4, 4, 2]);
    expect(parents()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('fails a throwing write alone, undoing what it wrote before it threw', async () => {
    const { db, group, commits, insertParent, parents } = setUp();
    const results = await Promise.allSettled([
      insertParent(1),
      group.write('halfway', () => {
        db.prepare('INSERT INTO parent (id) VALUES (50)').run();
        throw new Error('changed my mind');
      }),
      insertParent(1), // a constraint violation is this write's error, not the batch's
      insertParent(2),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results[1]).toMatchObject({ reason: { message: 'changed my mind' } });
    expect(results[2]).toMatchObject({ reason: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
    expect(commits).toEqual([4]);
    expect(parents()).toEqual([1, 2]);
  });

  it('runs a batch without savepoints, and again in savepoints only when one of its writes throws', async () => {
    const { db, group, commits, insertParent, parents } = setUp();
    // Records how many parents it saw each time it ran: a write runs twice only after a failure.
    const seen: number[] = [];
    const probe = () =>
      group.write('probe', () => {
        seen.push(db.prepare('SELECT count(*) FROM parent').pluck().get() as number);
      });
    // A clean batch: every write runs once.
    await Promise.all([insertParent(1), probe()]);
    expect(seen).toEqual([1]);
    // A failing write: the batch rolls back and runs again, each write alone; the others commit once.
    seen.length = 0;
    const results = await Promise.allSettled([
      insertParent(2),
      probe(),
      group.write('fails', () => {
        throw new Error('no');
      }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(seen).toEqual([2, 2]);
    expect(commits).toEqual([2, 3]);
    expect(parents()).toEqual([1, 2]);
    // The next batch is fast again: its writes run once.
    seen.length = 0;
    await Promise.all([insertParent(3), probe()]);
    expect(seen).toEqual([3]);
  });

  it('rejects every write of a batch whose COMMIT fails, and keeps none of them', async () => {
    const { db, group, commits, insertParent, parents } = setUp();
    const orphan = db.prepare('INSERT INTO child (id, parent) VALUES (1, 99)');
    // The orphan passes its own savepoint (the key is deferred) and fails the COMMIT of all.
    const results = await Promise.allSettled([insertParent(1), group.write('orphan', () => orphan.run().changes)]);
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
    }
    expect(commits).toEqual([]);
    expect(db.inTransaction).toBe(false);
    expect(parents()).toEqual([]);
    // The connection is usable again.
    await insertParent(3);
    expect(parents()).toEqual([3]);
  });

  it('runs a read at once when no write waits, and behind the waiting writes otherwise', async () => {
    const { group, insertParent, parents } = setUp();
    let ran = false;
    const early = group.read('parents', () => {
      ran = true;
      return parents();
    });
    expect(ran).toBe(true);
    expect(await early).toEqual([]);
    const written = insertParent(7);
    const after = group.read('parents', parents);
    expect(await after).toEqual([7]);
    expect(await written).toBe(1);
  });

  it('reports a database that cannot be used as unavailable, any other failure as itself', async () => {
    const { group } = setUp();
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const busyError = await group
      .read('busy', () => {
        throw busy;
      })
      .catch((caught: unknown) => caught);
    expect(StoreUnavailableError.isInstance(busyError)).toBe(true);
    expect(busyError).toMatchObject({ message: 'SQLite busy failed: database is locked', cause: busy });
    const bug = new TypeError('not a function');
    await expect(
      group.read('bug', () => {
        throw bug;
      }),
    ).rejects.toBe(bug);
  });

  it("answers a commit's writes only once afterCommit (the log flush) resolves, as unavailable if it fails", async () => {
    let finishFlush: (error?: Error) => void = () => {};
    const { insertParent, parents } = setUp({
      afterCommit: () =>
        new Promise<void>((resolve, reject) => {
          finishFlush = (error) => (error ? reject(error) : resolve());
        }),
    });
    let settled = false;
    const first = insertParent(1).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(parents()).toEqual([1]);
    expect(settled).toBe(false);
    finishFlush();
    await first;
    const second = insertParent(2).catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 10));
    finishFlush(new Error('EIO'));
    const error = await second;
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ message: expect.stringMatching(/synced to disk/) });
  });

  it("holds the writes asked for during a commit's flush and commits them together once it ends", async () => {
    const flushes: (() => void)[] = [];
    const { commits, insertParent, parents } = setUp({
      afterCommit: () => new Promise<void>((resolve) => flushes.push(resolve)),
    });
    const first = insertParent(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(commits).toEqual([1]);
    // Three turns' writes while the first commit's flush runs: none is committed on its own.
    const later: Promise<number>[] = [];
    for (const id of [2, 3, 4]) {
      later.push(insertParent(id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(commits).toEqual([1]);
    expect(parents()).toEqual([1]);
    flushes.shift()?.();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(commits).toEqual([1, 3]);
    expect(parents()).toEqual([1, 2, 3, 4]);
    let settled = false;
    void Promise.all(later).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Committed, not yet flushed: still unanswered.
    expect(settled).toBe(false);
    flushes.shift()?.();
    expect(await Promise.all(later)).toEqual([1, 1, 1]);
  });

  it('with maxSyncsInFlight 2, commits while one flush runs and answers batches in commit order', async () => {
    const flushes: (() => void)[] = [];
    const { commits, insertParent } = setUp({
      maxSyncsInFlight: 2,
      afterCommit: () => new Promise<void>((resolve) => flushes.push(resolve)),
    });
    const answered: number[] = [];
    const first = insertParent(1).then(() => answered.push(1));
    await new Promise((resolve) => setImmediate(resolve));
    const second = insertParent(2).then(() => answered.push(2));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Committed at once, its flush beside the first one.
    expect(commits).toEqual([1, 1]);
    const third = insertParent(3).then(() => answered.push(3));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(commits).toEqual([1, 1]);
    // The second flush ends first: its write waits for the first batch's answer.
    flushes[1]?.();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(answered).toEqual([]);
    expect(commits).toEqual([1, 1, 1]);
    flushes[0]?.();
    await Promise.all([first, second]);
    expect(answered).toEqual([1, 2]);
    flushes[2]?.();
    await third;
    expect(answered).toEqual([1, 2, 3]);
  });

  it('refuses writes beyond maxQueuedWrites as unavailable, at once', async () => {
    const { insertParent, parents } = setUp({ maxQueuedWrites: 2 });
    const results = await Promise.allSettled([insertParent(1), insertParent(2), insertParent(3)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const refused = results[2];
    expect(refused?.status === 'rejected' && StoreUnavailableError.isInstance(refused.reason)).toBe(true);
    expect(parents()).toEqual([1, 2]);
  });

  it('commits the waiting writes on close, then refuses everything as closed', async () => {
    const { group, commits, insertParent, parents } = setUp({ maxBatchWrites: 2 });
    const waiting = [insertParent(1), insertParent(2), insertParent(3)];
    group.close();
    expect(group.closed).toBe(true);
    expect(commits).toEqual([2, 1]);
    expect(await Promise.all(waiting)).toEqual([1, 1, 1]);
    expect(parents()).toEqual([1, 2, 3]);
    group.close();
    for (const refused of [insertParent(4), group.read('parents', parents)]) {
      const error = await refused.catch((caught: unknown) => caught);
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ message: expect.stringMatching(/closed/) });
    }
  });
});

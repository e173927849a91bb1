import { setImmediate as nextTurn } from 'node:timers';
import type Database from 'better-sqlite3';
import { toSqliteStoreError } from './sqlite-errors.js';
import { StoreUnavailableError } from './store.js';

export interface GroupCommitOptions {
  db: Database.Database;
  /** Most writes committed together in one transaction. */
  maxBatchWrites?: number;
  /** Most writes waiting for their commit; beyond it a write fails as unavailable (503, Feishu retries). */
  maxQueuedWrites?: number;
  /** Called after each commit with how many writes it held (tests, batch-size figures). */
  onCommit?: (writes: number) => void;
  /**
   * How long a write may wait for another connection's write lock (another process on the same
   * file) before it fails as unavailable: the webhook then answers 503 and Feishu retries, so it
   * stays under Feishu's 3 s. The wait never holds the event loop (see `flush`).
   */
  lockWaitMs?: number;
  /** First pause before trying the lock again; it doubles up to `maxLockRetryMs`. */
  lockRetryMs?: number;
  maxLockRetryMs?: number;
  now?: () => number;
  /**
   * Makes a commit durable (the WAL flushed to disk, sqlite-log-sync.ts); the commit's callers
   * settle only when it resolves. Without it they settle right after the COMMIT. While it runs,
   * new writes wait and go into ONE commit after it (see `flush`).
   */
  afterCommit?: () => Promise<void>;
  /**
   * Commits whose `afterCommit` may run at once (the log sync must allow as many flushes). With
   * 2, a write that arrives while a flush runs is committed and flushed at once instead of
   * waiting for that flush to end: under load the ack waits about one flush instead of two.
   */
  maxSyncsInFlight?: number;
  /**
   * Called right after each `BEGIN`, before any write of the batch runs (a batch that is run
   * again after a rollback begins again): state a batch accumulates for `beforeCommit` starts here.
   */
  onBegin?: () => void;
  /**
   * Runs inside the transaction after every write of the batch, just before `COMMIT` (one
   * statement for the whole batch instead of one per write); if it throws, the batch fails as a
   * commit that failed: nothing of it is kept.
   */
  beforeCommit?: () => void;
}

export interface GroupCommit {
  /** Runs `work` now, or behind the waiting writes so it sees them (call order is kept). */
  read<T>(operation: string, work: () => T): Promise<T>;
  /** Queues `work` for this turn's commit; settles after the transaction holding it commits. */
  write<T>(operation: string, work: () => T): Promise<T>;
  /** Commits every write still waiting (their callers are waiting on them), then refuses new work. */
  close(): void;
  readonly closed: boolean;
}

interface QueuedWrite {
  operation: string;
  /** When the write was asked for: its lock-wait budget runs from here. */
  queuedAt: number;
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Set once a batch holding it failed without savepoints: it then runs in its own savepoint. */
  careful?: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit on one SQLite connection. A write does not commit on its own: the writes asked
 * for during one turn of the event loop (under load: every webhook request whose bytes arrived
 * together, plus the dispatcher's claims and completions) run at the end of that turn in ONE
 * `BEGIN IMMEDIATE` transaction and their promises settle only after the COMMIT. Each write
 * succeeds or fails alone: a batch first runs without savepoints (a savepoint per write costs two
 * statements and a copy of every page the write touches into the statement journal, most of the
 * admission's CPU besides the COMMIT); if any write throws, the whole transaction is rolled back
 * and the batch runs again at once, each write in its own savepoint, so nothing of a failed write
 * and all of the others are committed. A write's `work` may therefore run twice: it must only
 * touch the database (its results are kept from the run that commits). A commit costs far more than the statements in
 * it, so this divides the cost of "durable before the ack" by the batch size without weakening
 * it. If the commit itself fails, every write of the batch is rejected: none of them is on disk.
 * A `work` function runs synchronously inside the transaction, so it must not await.
 *
 * With `afterCommit` (the log flush), the writes asked for while a commit's flush runs are not
 * committed turn by turn behind it: none of them could be answered before the next flush
 * anyway, so they wait and go into one commit the moment the flush ends. Same latency, but one
 * COMMIT (and one rewrite of the pages they share: the jobs table's and its indexes' last
 * leaves) per flush instead of one per turn — that was most of the ack's CPU under load.
 *
 * @example
 * const commits = createGroupCommit({ db });
 * const added = await commits.write('enqueue', () => insert.run(row).changes === 1);
 */
export function createGroupCommit({
  db,
  maxBatchWrites = 500,
  maxQueuedWrites = 20_000,
  onCommit,
  afterCommit,
  maxSyncsInFlight = 1,
  onBegin,
  beforeCommit,
  lockWaitMs = 2_000,
  lockRetryMs = 5,
  maxLockRetryMs = 100,
  now = Date.now,
}: GroupCommitOptions): GroupCommit {
  /** One queued write in its own savepoint (a careful batch): it fails alone, leaving the others intact. */
  const inSavepoint = db.transaction((work: () => unknown) => work());
  const transactionControl = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
  const queue: QueuedWrite[] = [];
  let flushScheduled = false;
  let closed = false;
  /** Set while the queue waits for another connection's write lock; its timer flushes. */
  let lockRetry: NodeJS.Timeout | undefined;
  let lockAttempts = 0;
  /** Commits whose `afterCommit` runs; at `maxSyncsInFlight` the queue waits (see above). */
  let syncsInFlight = 0;
  const syncing = () => syncsInFlight >= maxSyncsInFlight;
  /** Settles batches in commit order even when a later flush ends first. */
  let settledInOrder: Promise<void> = Promise.resolve();

  const closedError = (operation: string) => new StoreUnavailableError(`SQLite store is closed (${operation})`);

  function read<T>(operation: string, work: () => T): Promise<T> {
    if (queue.length > 0) return write(operation, work);
    if (closed) return Promise.reject(closedError(operation));
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toSqliteStoreError(error, `SQLite ${operation} failed`));
    }
  }

  function write<T>(operation: string, work: () => T): Promise<T> {
    if (closed) return Promise.reject(closedError(operation));
    if (queue.length >= maxQueuedWrites) {
      return Promise.reject(
        new StoreUnavailableError(`SQLite ${operation}: ${queue.length} writes already waiting for a commit`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      queue.push({ operation, queuedAt: now(), work, resolve: resolve as (value: unknown) => void, reject });
      if (!flushScheduled && lockRetry === undefined && !syncing()) {
        flushScheduled = true;
        // After the I/O callbacks of this turn: every request that arrived with this one joins it.
        nextTurn(flush);
      }
    });
  }

  function flush(): void {
    flushScheduled = false;
    if (lockRetry !== undefined || syncing() || queue.length === 0) return;
    if (closed) {
      for (const entry of queue.splice(0)) entry.reject(closedError(entry.operation));
      return;
    }
    try {
      transactionControl.begin.run();
    } catch (error) {
      if (isLockBusy(error)) waitForLock(error);
      // Anything else (disk, I/O) fails the batch that could not begin.
      else failBatch(queue.splice(0, maxBatchWrites), error);
      scheduleRest();
      return;
    }
    lockAttempts = 0;
    onBegin?.();
    const batch = queue.splice(0, maxBatchWrites);
    scheduleRest();
    commitBatch(batch);
  }

  function scheduleRest(): void {
    if (queue.length === 0 || flushScheduled || lockRetry !== undefined || syncing()) return;
    flushScheduled = true;
    nextTurn(flush);
  }

  /**
   * Another connection holds the write lock. better-sqlite3 would wait for it synchronously (the
   * busy timeout), holding the event loop and with it every request, /health/live included; the
   * connection's busy timeout is therefore short, and the queue tries again on a timer with
   * back-off. Writes whose wait has passed `lockWaitMs` fail as unavailable now; the others, and
   * every write asked for meanwhile, go with the next try.
   */
  function waitForLock(cause: unknown): void {
    const at = now();
    let expired = 0;
    while (expired < queue.length && at - (queue[expired]?.queuedAt ?? at) >= lockWaitMs) expired += 1;
    for (const entry of queue.splice(0, expired)) {
      entry.reject(
        new StoreUnavailableError(
          `SQLite ${entry.operation}: another connection held the write lock for more than ${lockWaitMs} ms`,
          { cause },
        ),
      );
    }
    const oldest = queue[0];
    if (oldest === undefined) {
      lockAttempts = 0;
      return;
    }
    // Back off, but try once more right when the oldest write's budget runs out.
    const backoff = Math.min(maxLockRetryMs, lockRetryMs * 2 ** lockAttempts);
    lockAttempts += 1;
    const delay = Math.max(1, Math.min(backoff, lockWaitMs - (at - oldest.queuedAt)));
    lockRetry = setTimeout(() => {
      lockRetry = undefined;
      flush();
    }, delay);
  }

  function failBatch(batch: readonly QueuedWrite[], error: unknown): void {
    for (const entry of batch) entry.reject(toSqliteStoreError(error, `SQLite ${entry.operation} was not committed`));
  }

  /**
   * Runs every write of a batch without savepoints, in the transaction `flush` began. When one
   * throws, rolls the transaction back, marks the batch careful and puts it back at the head of
   * the queue (the caller flushes it again); returns undefined then.
   */
  function runFast(batch: readonly QueuedWrite[]): Outcome[] | undefined {
    const outcomes: Outcome[] = [];
    try {
      for (const entry of batch) outcomes.push({ ok: true, value: entry.work() });
      return outcomes;
    } catch {
      if (db.inTransaction) transactionControl.rollback.run();
      for (const entry of batch) entry.careful = true;
      queue.unshift(...batch);
      return undefined;
    }
  }

  /** Runs a batch inside the transaction `flush` began, commits it and settles its callers. */
  function commitBatch(batch: readonly QueuedWrite[]): void {
    let outcomes: Outcome[] = [];
    let lost: unknown;
    const careful = batch.some((entry) => entry.careful);
    if (!careful) {
      let fast: Outcome[] | undefined;
      try {
        fast = runFast(batch);
      } catch (error) {
        // The rollback itself failed: the connection is past saving, nothing of the batch is kept.
        failBatch(batch, error);
        return;
      }
      if (fast === undefined) {
        // Again right away, in savepoints (flush takes the lock again; the batch leads the queue).
        flush();
        return;
      }
      outcomes = fast;
    }
    try {
      if (careful) {
        for (const entry of batch) {
          try {
            outcomes.push({ ok: true, value: inSavepoint(entry.work) });
          } catch (error) {
            // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
            if (!db.inTransaction) throw error;
            outcomes.push({ ok: false, error: toSqliteStoreError(error, `SQLite ${entry.operation} failed`) });
          }
        }
      }
      beforeCommit?.();
      transactionControl.commit.run();
      onCommit?.(batch.length);
    } catch (error) {
      lost = error;
      if (db.inTransaction) {
        try {
          transactionControl.rollback.run();
        } catch {
          // The connection is past saving; every write of the batch fails below either way.
        }
      }
    }
    if (lost === undefined && afterCommit !== undefined) {
      syncsInFlight += 1;
      let flushed: Promise<void>;
      try {
        flushed = afterCommit();
      } catch (error) {
        // A throw must not leave the queue waiting for a flush that never ends.
        flushed = Promise.reject(error);
      }
      const failure = flushed.then(
        () => undefined,
        (error: unknown) => new StoreUnavailableError('SQLite commit could not be synced to disk', { cause: error }),
      );
      void failure.then(() => {
        syncsInFlight -= 1;
        // What queued meanwhile commits now, together, and its flush starts before this batch's
        // callers are answered: writing their responses would otherwise delay the next flush.
        if (queue.length > 0 && !flushScheduled) flush();
      });
      settledInOrder = Promise.all([settledInOrder, failure]).then(([, lost]) => settle(batch, outcomes, lost));
    } else settle(batch, outcomes, lost);
  }

  /** Answers every caller of a batch: its own outcome, or the batch's failure when it is not on disk. */
  function settle(batch: readonly QueuedWrite[], outcomes: readonly Outcome[], lost: unknown): void {
    batch.forEach((entry, index) => {
      const outcome = outcomes[index];
      if (lost !== undefined) {
        // Nothing of the batch is on disk: a write that "succeeded" inside it was rolled back too.
        entry.reject(
          outcome?.ok === false
            ? outcome.error
            : toSqliteStoreError(lost, `SQLite ${entry.operation} was not committed`),
        );
      } else if (outcome?.ok) entry.resolve(outcome.value);
      else entry.reject(outcome?.error);
    });
  }

  return {
    read,
    write,
    close() {
      if (closed) return;
      clearTimeout(lockRetry);
      lockRetry = undefined;
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatchWrites);
        try {
          // A last try for the lock (the short busy timeout); a closing process cannot wait longer.
          transactionControl.begin.run();
        } catch (error) {
          failBatch(batch, error);
          continue;
        }
        onBegin?.();
        // Straight to savepoints: a closing queue must not go back through `flush`.
        for (const entry of batch) entry.careful = true;
        commitBatch(batch);
      }
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}

/** SQLITE_BUSY and its extended codes: another connection holds a lock we need. */
function isLockBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

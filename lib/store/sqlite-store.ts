import { setImmediate as nextTurn } from 'node:timers';
import Database from 'better-sqlite3';
import { startSqliteCheckpointer } from './sqlite-checkpointer.js';
import {
  type Admission,
  type AdmissionResult,
  type ClaimOptions,
  type FailOptions,
  type HistoryMessage,
  type Job,
  type JobCounts,
  type JobStatus,
  type NewJob,
  type Store,
  StoreUnavailableError,
} from './store.js';

/**
 * Schema migrations, applied in order. `PRAGMA user_version` holds the number applied, so a
 * reopened file only runs what it lacks. Append new entries; never edit a shipped one.
 *
 * Jobs keep two orders: `seq` (rowid, insertion order, for "newest first" tie-breaks) and
 * `queue_order`, the lane position. A retried dead job gets a fresh `queue_order` so it queues
 * behind the lane's current work instead of jumping ahead of a job another worker holds.
 */
export const sqliteMigrations: readonly { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'dedupe keys, jobs, history, counters, records',
    sql: `
      CREATE TABLE dedupe_keys (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX dedupe_keys_expires ON dedupe_keys (expires_at);

      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        lane TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'leased', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until INTEGER,
        available_at INTEGER NOT NULL,
        checkpoint TEXT,
        last_error TEXT,
        queue_order INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- Claiming seeks status IN (pending, leased) and the lane index holds unfinished jobs only,
      -- so it stays fast however many done jobs pile up before a purge.
      CREATE INDEX jobs_unfinished_lane ON jobs (lane, queue_order) WHERE status IN ('pending', 'leased');
      CREATE INDEX jobs_queue_order ON jobs (queue_order);
      CREATE INDEX jobs_status_created ON jobs (status, created_at);
      CREATE INDEX jobs_created ON jobs (created_at);
      CREATE INDEX jobs_status_updated ON jobs (status, updated_at);

      CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation TEXT NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        at INTEGER NOT NULL,
        author TEXT,
        message_id TEXT
      );
      CREATE INDEX history_conversation ON history (conversation, seq);

      CREATE TABLE counters (
        key TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        count INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (key, window_start)
      );
      CREATE INDEX counters_expires ON counters (expires_at);

      -- seq is the write order: INSERT OR REPLACE deletes the old row, so an upsert gets a new seq.
      CREATE TABLE records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (collection, id)
      );
      CREATE INDEX records_collection ON records (collection, seq);
    `,
  },
  {
    version: 2,
    description: 'claim in queue order; index finished jobs only for the purge',
    sql: `
      -- Without it a claim read every pending job and sorted them (8 ms per claim at 10 000 pending).
      CREATE INDEX jobs_unfinished_order ON jobs (queue_order) WHERE status IN ('pending', 'leased');
      -- Only the purge reads finished jobs by age. Indexing every job by (status, updated_at) made
      -- each claim, lease renewal and completion move an index entry; this one is written once,
      -- when a job finishes.
      DROP INDEX jobs_status_updated;
      CREATE INDEX jobs_finished_updated ON jobs (updated_at) WHERE status IN ('done', 'dead');
    `,
  },
  {
    version: 3,
    description: 'job counts kept as jobs change',
    sql: `
      -- countJobs read every job row: a metrics scrape or the inbox's backlog check over 72 hours
      -- of retained jobs held the event loop for as long as that took. The triggers keep one row
      -- per status in step with the jobs table, inside the same transaction as the change.
      CREATE TABLE job_counts (status TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO job_counts (status, count)
        SELECT statuses.column1, (SELECT count(*) FROM jobs WHERE jobs.status = statuses.column1)
        FROM (VALUES ('pending'), ('leased'), ('done'), ('dead')) AS statuses;
      CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
        UPDATE job_counts SET count = count + 1 WHERE status = NEW.status;
      END;
      CREATE TRIGGER job_counts_update AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status BEGIN
        UPDATE job_counts SET count = count - 1 WHERE status = OLD.status;
        UPDATE job_counts SET count = count + 1 WHERE status = NEW.status;
      END;
      CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
        UPDATE job_counts SET count = count - 1 WHERE status = OLD.status;
      END;
    `,
  },
];

/**
 * The claim query, exported so a test can check its plan uses the partial indexes. It walks
 * unfinished jobs in queue order and stops at the first claimable lane head, so its cost depends
 * on the jobs it skips (busy lanes, retries not yet due), not on the size of the backlog.
 */
export const CLAIM_NEXT_JOB_SQL = `
  SELECT j.seq FROM jobs j INDEXED BY jobs_unfinished_order
  WHERE j.status IN ('pending', 'leased')
    AND ((j.status = 'pending' AND j.available_at <= @now) OR (j.status = 'leased' AND j.lease_until <= @now))
    AND (@kinds IS NULL OR j.kind IN (SELECT value FROM json_each(@kinds)))
    AND NOT EXISTS (
      SELECT 1 FROM jobs earlier
      WHERE earlier.lane = j.lane AND earlier.status IN ('pending', 'leased') AND earlier.queue_order < j.queue_order
    )
  ORDER BY j.queue_order
  LIMIT 1`;

/** One purge batch, exported so a test can check it reads only the finished-jobs index. */
export const PURGE_JOBS_SQL = `
  DELETE FROM jobs WHERE rowid IN (
    SELECT rowid FROM jobs INDEXED BY jobs_finished_updated
    WHERE status IN ('done', 'dead') AND updated_at < @before LIMIT @limit)`;

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing. */
  busyTimeoutMs?: number;
  /** Expired dedupe keys and counter windows are deleted every this many writes to them… */
  sweepEvery?: number;
  /** …at most this many rows per sweep, so one call never stalls on a huge backlog. */
  sweepLimit?: number;
  /** How often the background checkpointer folds the WAL into the database file (file stores). */
  checkpointIntervalMs?: number;
  /** WAL size past which the checkpointer empties the log (sqlite-checkpointer.ts): its disk bound. */
  walLimitBytes?: number;
  /** Most writes committed together in one transaction (see "group commit" below). */
  maxBatchWrites?: number;
  /** Most writes waiting for their commit; beyond it a write fails as unavailable (503, Feishu retries). */
  maxQueuedWrites?: number;
  /** Called after each group commit with how many writes it held (tests, batch-size figures). */
  onCommit?: (writes: number) => void;
}

interface JobRow {
  seq: number;
  id: string;
  lane: string;
  kind: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  owner: string | null;
  lease_until: number | null;
  available_at: number;
  checkpoint: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

interface HistoryRow {
  role: HistoryMessage['role'];
  content: string;
  at: number;
  author: string | null;
  message_id: string | null;
}

// SQLite result codes that mean "the database cannot be used right now", not "your call is wrong".
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

/** Finished jobs deleted per statement by purgeJobs. */
const PURGE_BATCH = 1_000;

interface QueuedWrite {
  operation: string;
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The default Store: one SQLite file in WAL mode. Safe for several processes on one host
 * (every write runs in a `BEGIN IMMEDIATE` transaction); use Redis across hosts.
 *
 * Group commit: a write does not commit on its own. Writes requested during one turn of the
 * event loop (under load: every webhook request whose bytes arrived together, plus the
 * dispatcher's claims and completions) run at the end of that turn in ONE transaction, each in
 * its own savepoint so it succeeds or fails alone, and their promises settle only after the
 * COMMIT. A commit costs far more than the statements in it, so this divides the cost of
 * "durable before the ack" by the batch size without weakening it. Reads run at once, unless
 * writes are waiting: then they queue behind them, so every caller sees its calls in order.
 *
 * @example
 * const store = openSqliteStore('./data/bot.db');
 * if (await store.claimKey(`event:${eventId}`, 24 * 3_600_000)) await store.enqueue(job);
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const {
    busyTimeoutMs = 5_000,
    sweepEvery = 100,
    sweepLimit = 500,
    checkpointIntervalMs = 1_000,
    walLimitBytes,
    maxBatchWrites = 500,
    maxQueuedWrites = 20_000,
    onCommit,
  } = options;
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    // Whatever the reason (missing directory, permissions, not a database), there is no store.
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailableError(`cannot open SQLite store at "${path}": ${message}`, { cause: error });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Group commit runs each write in a savepoint; their statement journal outgrows SQLite's
    // in-memory spill limit within one batch and would otherwise go to a temporary FILE, created
    // and deleted every few commits (half the cost of an admission). It holds one batch's pages.
    db.pragma('temp_store = MEMORY');
    migrate(db);
  } catch (error) {
    db.close();
    throw asStoreError(error, `cannot prepare SQLite store at "${path}"`);
  }
  const checkpointer =
    path === ':memory:' || path === ''
      ? undefined
      : startSqliteCheckpointer({
          path,
          intervalMs: checkpointIntervalMs,
          walLimitBytes,
          onWalFull: () => {
            if (truncateScheduled) return;
            truncateScheduled = true;
            // Between two batches, where no write of ours is open and nothing can append.
            nextTurn(truncateWal);
          },
          // Without the worker, SQLite's own checkpoints keep the WAL bounded (at some latency).
          onFailure: () => {
            if (!closed) db.pragma('wal_autocheckpoint = 1000');
          },
        });
  if (checkpointer) db.pragma('wal_autocheckpoint = 0');
  let truncateScheduled = false;

  /** Empties the WAL (sqlite-checkpointer.ts explains why the writer must be the one to do it). */
  function truncateWal(): void {
    truncateScheduled = false;
    if (closed) return;
    try {
      // Another process writing (PM2 cluster) may hold the lock: wait briefly, else the next
      // checkpoint asks again.
      db.pragma('busy_timeout = 100');
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Nothing to do: a failed truncate leaves the WAL as it was, and the next one retries.
    } finally {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    }
  }

  const statements = prepareStatements(db);
  let closed = false;
  let dedupeWritesSinceSweep = 0;
  let counterWritesSinceSweep = 0;

  // The multi-statement writes below need no transaction of their own: every write runs in its
  // own savepoint inside its batch's transaction (see `write`), so each is atomic already.
  const leaseNextJob = (owner: string, leaseMs: number, kinds: string | null, now: number): JobRow | null => {
    const candidate = statements.claimCandidate.get({ now, kinds }) as { seq: number } | undefined;
    if (!candidate) return null;
    return statements.leaseJob.get({ seq: candidate.seq, owner, leaseUntil: now + leaseMs, now }) as JobRow;
  };

  const appendHistoryRows = (conversation: string, messages: readonly HistoryMessage[], maxMessages: number) => {
    for (const message of messages) {
      statements.insertHistory.run({
        conversation,
        role: message.role,
        content: message.content,
        at: message.at,
        author: message.author ?? null,
        messageId: message.messageId ?? null,
      });
    }
    statements.trimHistory.run({ conversation, keep: maxMessages });
  };

  const putRecordRow = (collection: string, id: string, value: string, maxRecords: number) => {
    statements.upsertRecord.run({ collection, id, value });
    statements.trimRecords.run({ collection, keep: maxRecords });
  };

  const admitOne = (
    keys: readonly string[],
    ttlMs: number,
    job: NewJob,
    payload: string,
    now: number,
  ): AdmissionResult => {
    for (const key of keys) {
      if (!claimOne(key, ttlMs, now)) return { status: 'duplicate', key };
    }
    const added = statements.enqueue.run({ id: job.id, lane: job.lane, kind: job.kind, payload, now }).changes;
    return added === 1 ? { status: 'enqueued' } : { status: 'exists' };
  };

  /** One queued write in its own savepoint: it fails alone, leaving the batch's other writes intact. */
  const inSavepoint = db.transaction((work: () => unknown) => work());
  const transactionControl = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
  const queue: QueuedWrite[] = [];
  let flushScheduled = false;

  /** Runs a read now, or behind the waiting writes so it sees them (call order is kept). */
  function read<T>(operation: string, work: () => T): Promise<T> {
    if (queue.length > 0) return write(operation, work);
    if (closed) return Promise.reject(new StoreUnavailableError(`SQLite store is closed (${operation})`));
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(asStoreError(error, `SQLite ${operation} failed`));
    }
  }

  /** Queues a write for this turn's group commit; settles after the transaction holding it commits. */
  function write<T>(operation: string, work: () => T): Promise<T> {
    if (closed) return Promise.reject(new StoreUnavailableError(`SQLite store is closed (${operation})`));
    if (queue.length >= maxQueuedWrites) {
      return Promise.reject(
        new StoreUnavailableError(`SQLite ${operation}: ${queue.length} writes already waiting for a commit`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      queue.push({ operation, work, resolve: resolve as (value: unknown) => void, reject });
      if (!flushScheduled) {
        flushScheduled = true;
        // After the I/O callbacks of this turn: every request that arrived with this one joins it.
        nextTurn(flush);
      }
    });
  }

  function flush(): void {
    flushScheduled = false;
    const batch = queue.splice(0, maxBatchWrites);
    if (queue.length > 0) {
      flushScheduled = true;
      nextTurn(flush);
    }
    if (batch.length === 0) return;
    if (closed) {
      for (const entry of batch) {
        entry.reject(new StoreUnavailableError(`SQLite store is closed (${entry.operation})`));
      }
      return;
    }
    commitBatch(batch);
  }

  function commitBatch(batch: readonly QueuedWrite[]): void {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    let lost: unknown;
    try {
      transactionControl.begin.run();
      for (const entry of batch) {
        try {
          outcomes.push({ ok: true, value: inSavepoint(entry.work) });
        } catch (error) {
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
          if (!db.inTransaction) throw error;
          outcomes.push({ ok: false, error: asStoreError(error, `SQLite ${entry.operation} failed`) });
        }
      }
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
    batch.forEach((entry, index) => {
      const outcome = outcomes[index];
      if (lost !== undefined) {
        // Nothing of the batch is on disk: a write that "succeeded" inside it was rolled back too.
        entry.reject(
          outcome?.ok === false ? outcome.error : asStoreError(lost, `SQLite ${entry.operation} was not committed`),
        );
      } else if (outcome?.ok) entry.resolve(outcome.value);
      else entry.reject(outcome?.error);
    });
  }

  /**
   * Runs `deleteBatch` (at most PURGE_BATCH rows) until a batch comes back short, yielding between
   * batches: one synchronous delete of a day's backlog would hold the event loop, and with it every
   * webhook ack, for as long as it takes.
   */
  async function purgeInBatches(operation: string, before: number, deleteBatch: () => number): Promise<number> {
    if (!Number.isFinite(before)) throw new RangeError(`before must be a time in ms, got ${String(before)}`);
    let total = 0;
    for (;;) {
      const deleted = await write(operation, deleteBatch);
      total += deleted;
      if (deleted < PURGE_BATCH) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One dedupe claim (see claimKey), sweeping expired keys every `sweepEvery` claims. */
  function claimOne(key: string, ttlMs: number, now: number): boolean {
    const claimed = statements.claimKey.run({ key, now, expiresAt: now + ttlMs }).changes === 1;
    sweepDedupeKeys(now);
    return claimed;
  }

  function sweepDedupeKeys(now: number): void {
    dedupeWritesSinceSweep += 1;
    if (dedupeWritesSinceSweep < sweepEvery) return;
    dedupeWritesSinceSweep = 0;
    statements.sweepDedupeKeys.run({ now, limit: sweepLimit });
  }

  function sweepCounters(now: number): void {
    counterWritesSinceSweep += 1;
    if (counterWritesSinceSweep < sweepEvery) return;
    counterWritesSinceSweep = 0;
    statements.sweepCounters.run({ now, limit: sweepLimit });
  }

  const store: Store = {
    kind: 'sqlite',

    claimKey(key, ttlMs, now = Date.now()) {
      return write('claimKey', () => {
        requireText(key, 'key');
        requirePositiveNumber(ttlMs, 'ttlMs');
        return claimOne(key, ttlMs, now);
      });
    },

    releaseKey(key) {
      return write('releaseKey', () => {
        statements.releaseKey.run({ key });
      });
    },

    admit({ keys, ttlMs, job }: Admission, now = Date.now()) {
      return write('admit', () => {
        for (const [index, key] of keys.entries()) requireText(key, `keys[${index}]`);
        requirePositiveNumber(ttlMs, 'ttlMs');
        requireText(job.id, 'job.id');
        requireText(job.lane, 'job.lane');
        requireText(job.kind, 'job.kind');
        return admitOne(keys, ttlMs, job, toJson(job.payload, 'job.payload'), now);
      });
    },

    enqueue(job: NewJob, now = Date.now()) {
      return write('enqueue', () => {
        requireText(job.id, 'job.id');
        requireText(job.lane, 'job.lane');
        requireText(job.kind, 'job.kind');
        const payload = toJson(job.payload, 'job.payload');
        return statements.enqueue.run({ id: job.id, lane: job.lane, kind: job.kind, payload, now }).changes === 1;
      });
    },

    claimNextJob({ owner, leaseMs, kinds, now = Date.now() }: ClaimOptions) {
      return write('claimNextJob', () => {
        requireText(owner, 'owner');
        requirePositiveNumber(leaseMs, 'leaseMs');
        if (kinds !== undefined && kinds.length === 0) return null;
        const row = leaseNextJob(owner, leaseMs, kinds ? JSON.stringify(kinds) : null, now);
        return row ? toJob(row) : null;
      });
    },

    renewLease(id, owner, leaseMs, now = Date.now()) {
      return write('renewLease', () => {
        requirePositiveNumber(leaseMs, 'leaseMs');
        return statements.renewLease.run({ id, owner, leaseUntil: now + leaseMs, now }).changes === 1;
      });
    },

    saveCheckpoint(id, owner, checkpoint) {
      return write('saveCheckpoint', () => {
        // undefined clears the checkpoint rather than failing: "no progress to resume".
        const value = checkpoint === undefined ? null : toJson(checkpoint, 'checkpoint');
        return statements.saveCheckpoint.run({ id, owner, checkpoint: value }).changes === 1;
      });
    },

    completeJob(id, owner, now = Date.now()) {
      return write('completeJob', () => statements.completeJob.run({ id, owner, now }).changes === 1);
    },

    failJob(id, owner, { error, dead, retryInMs = 0, now = Date.now() }: FailOptions) {
      return write('failJob', () => {
        if (!Number.isFinite(retryInMs) || retryInMs < 0) {
          throw new RangeError(`retryInMs must be a non-negative number, got ${String(retryInMs)}`);
        }
        const lastError = String(error);
        if (dead) return statements.failJobDead.run({ id, owner, lastError, now }).changes === 1;
        return statements.failJobRetry.run({ id, owner, lastError, availableAt: now + retryInMs, now }).changes === 1;
      });
    },

    releaseJob(id, owner, now = Date.now()) {
      return write('releaseJob', () => statements.releaseJob.run({ id, owner, now }).changes === 1);
    },

    retryJob(id, now = Date.now()) {
      return write('retryJob', () => statements.retryJob.run({ id, now }).changes === 1);
    },

    getJob(id) {
      return read('getJob', () => {
        const row = statements.getJob.get({ id }) as JobRow | undefined;
        return row ? toJob(row) : null;
      });
    },

    listJobs({ status, limit }) {
      return read('listJobs', () => {
        requireLimit(limit, 'limit');
        const rows = (
          status === undefined
            ? statements.listJobs.all({ limit })
            : statements.listJobsByStatus.all({ status: requireStatus(status), limit })
        ) as JobRow[];
        return rows.map(toJob);
      });
    },

    countJobs() {
      return read('countJobs', () => {
        const counts: JobCounts = { pending: 0, leased: 0, done: 0, dead: 0 };
        for (const row of statements.countJobs.all() as { status: JobStatus; count: number }[]) {
          counts[row.status] = row.count;
        }
        return counts;
      });
    },

    purgeJobs(before) {
      return purgeInBatches(
        'purgeJobs',
        before,
        () => statements.purgeJobs.run({ before, limit: PURGE_BATCH }).changes,
      );
    },

    appendHistory(conversation, messages, maxMessages) {
      return write('appendHistory', () => {
        requireText(conversation, 'conversation');
        requirePositiveInteger(maxMessages, 'maxMessages');
        messages.forEach(requireHistoryMessage);
        appendHistoryRows(conversation, messages, maxMessages);
      });
    },

    readHistory(conversation, limit) {
      return read('readHistory', () => {
        requireLimit(limit, 'limit');
        const rows = statements.readHistory.all({ conversation, limit }) as HistoryRow[];
        return rows.reverse().map(toHistoryMessage);
      });
    },

    clearHistory(conversation) {
      return write('clearHistory', () => {
        statements.clearHistory.run({ conversation });
      });
    },

    purgeHistory(before) {
      return purgeInBatches('purgeHistory', before, () => {
        const idle = statements.idleConversations.all({ before, limit: PURGE_BATCH }) as { conversation: string }[];
        for (const { conversation } of idle) statements.clearHistory.run({ conversation });
        return idle.length;
      });
    },

    incrementCounter(key, windowMs, now = Date.now()) {
      return write('incrementCounter', () => {
        requireText(key, 'key');
        requirePositiveInteger(windowMs, 'windowMs');
        const windowStart = Math.floor(now / windowMs) * windowMs;
        const row = statements.incrementCounter.get({ key, windowStart, expiresAt: windowStart + windowMs }) as {
          count: number;
        };
        sweepCounters(now);
        return row.count;
      });
    },

    putRecord(collection, id, value, maxRecords) {
      return write('putRecord', () => {
        requireText(collection, 'collection');
        requireText(id, 'id');
        requirePositiveInteger(maxRecords, 'maxRecords');
        putRecordRow(collection, id, toJson(value, 'record value'), maxRecords);
      });
    },

    getRecord(collection, id) {
      return read('getRecord', () => {
        const row = statements.getRecord.get({ collection, id }) as { value: string } | undefined;
        return row ? (JSON.parse(row.value) as unknown) : null;
      });
    },

    listRecords(collection, limit) {
      return read('listRecords', () => {
        requireLimit(limit, 'limit');
        const rows = statements.listRecords.all({ collection, limit }) as { value: string }[];
        return rows.map((row) => JSON.parse(row.value) as unknown);
      });
    },

    ping() {
      return read('ping', () => {
        statements.ping.get();
      });
    },

    async close() {
      if (closed) return;
      // Writes already asked for are committed, not dropped: their callers are waiting on them.
      while (queue.length > 0) commitBatch(queue.splice(0, maxBatchWrites));
      closed = true;
      await checkpointer?.close();
      db.close();
    },
  };
  return store;
}

function migrate(db: Database.Database): void {
  const latest = sqliteMigrations.at(-1)?.version ?? 0;
  // IMMEDIATE: two processes opening a fresh file at once must not both run migration 1.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > latest) {
      throw new Error(
        `SQLite store schema version ${current} is newer than this build knows (${latest}): upgrade the bot`,
      );
    }
    for (const migration of sqliteMigrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}

function prepareStatements(db: Database.Database) {
  const jobColumns = `seq, id, lane, kind, payload, status, attempts, owner, lease_until, available_at, checkpoint,
    last_error, created_at, updated_at`;
  return {
    claimKey: db.prepare(`
      INSERT INTO dedupe_keys (key, expires_at) VALUES (@key, @expiresAt)
      ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe_keys.expires_at <= @now`),
    releaseKey: db.prepare('DELETE FROM dedupe_keys WHERE key = @key'),
    sweepDedupeKeys: db.prepare(`
      DELETE FROM dedupe_keys WHERE key IN (SELECT key FROM dedupe_keys WHERE expires_at <= @now LIMIT @limit)`),

    enqueue: db.prepare(`
      INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
      VALUES (@id, @lane, @kind, @payload, 'pending', 0, @now,
              (SELECT coalesce(max(queue_order), 0) + 1 FROM jobs), @now, @now)
      ON CONFLICT (id) DO NOTHING`),
    claimCandidate: db.prepare(CLAIM_NEXT_JOB_SQL),
    leaseJob: db.prepare(`
      UPDATE jobs SET status = 'leased', attempts = attempts + 1, owner = @owner, lease_until = @leaseUntil,
        updated_at = @now
      WHERE seq = @seq
      RETURNING ${jobColumns}`),
    renewLease: db.prepare(`
      UPDATE jobs SET lease_until = @leaseUntil, updated_at = @now
      WHERE id = @id AND owner = @owner AND status = 'leased'`),
    saveCheckpoint: db.prepare(`
      UPDATE jobs SET checkpoint = @checkpoint WHERE id = @id AND owner = @owner AND status = 'leased'`),
    completeJob: db.prepare(`
      UPDATE jobs SET status = 'done', owner = NULL, lease_until = NULL, updated_at = @now
      WHERE id = @id AND owner = @owner AND status = 'leased'`),
    failJobDead: db.prepare(`
      UPDATE jobs SET status = 'dead', owner = NULL, lease_until = NULL, last_error = @lastError, updated_at = @now
      WHERE id = @id AND owner = @owner AND status = 'leased'`),
    failJobRetry: db.prepare(`
      UPDATE jobs SET status = 'pending', owner = NULL, lease_until = NULL, last_error = @lastError,
        available_at = @availableAt, updated_at = @now
      WHERE id = @id AND owner = @owner AND status = 'leased'`),
    releaseJob: db.prepare(`
      UPDATE jobs SET status = 'pending', owner = NULL, lease_until = NULL, attempts = max(attempts - 1, 0),
        available_at = @now, updated_at = @now
      WHERE id = @id AND owner = @owner AND status = 'leased'`),
    retryJob: db.prepare(`
      UPDATE jobs SET status = 'pending', attempts = 0, owner = NULL, lease_until = NULL, available_at = @now,
        queue_order = (SELECT coalesce(max(queue_order), 0) + 1 FROM jobs), updated_at = @now
      WHERE id = @id AND status = 'dead'`),
    getJob: db.prepare(`SELECT ${jobColumns} FROM jobs WHERE id = @id`),
    listJobs: db.prepare(`SELECT ${jobColumns} FROM jobs ORDER BY created_at DESC, seq DESC LIMIT @limit`),
    listJobsByStatus: db.prepare(`
      SELECT ${jobColumns} FROM jobs WHERE status = @status ORDER BY created_at DESC, seq DESC LIMIT @limit`),
    countJobs: db.prepare('SELECT status, count FROM job_counts'),
    purgeJobs: db.prepare(PURGE_JOBS_SQL),

    insertHistory: db.prepare(`
      INSERT INTO history (conversation, role, content, at, author, message_id)
      VALUES (@conversation, @role, @content, @at, @author, @messageId)`),
    trimHistory: db.prepare(`
      DELETE FROM history WHERE conversation = @conversation AND seq <= (
        SELECT seq FROM history WHERE conversation = @conversation ORDER BY seq DESC LIMIT 1 OFFSET @keep)`),
    readHistory: db.prepare(`
      SELECT role, content, at, author, message_id FROM history WHERE conversation = @conversation
      ORDER BY seq DESC LIMIT @limit`),
    clearHistory: db.prepare('DELETE FROM history WHERE conversation = @conversation'),
    idleConversations: db.prepare(
      'SELECT conversation FROM history GROUP BY conversation HAVING MAX(at) < @before LIMIT @limit',
    ),

    incrementCounter: db.prepare(`
      INSERT INTO counters (key, window_start, count, expires_at) VALUES (@key, @windowStart, 1, @expiresAt)
      ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1
      RETURNING count`),
    sweepCounters: db.prepare(`
      DELETE FROM counters WHERE rowid IN (SELECT rowid FROM counters WHERE expires_at <= @now LIMIT @limit)`),

    upsertRecord: db.prepare(
      'INSERT OR REPLACE INTO records (collection, id, value) VALUES (@collection, @id, @value)',
    ),
    trimRecords: db.prepare(`
      DELETE FROM records WHERE collection = @collection AND seq <= (
        SELECT seq FROM records WHERE collection = @collection ORDER BY seq DESC LIMIT 1 OFFSET @keep)`),
    getRecord: db.prepare('SELECT value FROM records WHERE collection = @collection AND id = @id'),
    listRecords: db.prepare('SELECT value FROM records WHERE collection = @collection ORDER BY seq DESC LIMIT @limit'),

    ping: db.prepare('SELECT 1'),
  };
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    lane: row.lane,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    attempts: row.attempts,
    owner: row.owner,
    leaseUntil: row.lease_until,
    availableAt: row.available_at,
    checkpoint: row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as unknown),
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toHistoryMessage(row: HistoryRow): HistoryMessage {
  const message: HistoryMessage = { role: row.role, content: row.content, at: row.at };
  if (row.author !== null) message.author = row.author;
  if (row.message_id !== null) message.messageId = row.message_id;
  return message;
}

function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} must be JSON-serialisable, got ${typeof value}`);
  return text;
}

function requireText(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${what} must be a non-empty string`);
}

function requirePositiveNumber(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be a positive number, got ${value}`);
}

function requirePositiveInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

function requireLimit(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
  }
}

const jobStatuses: readonly JobStatus[] = ['pending', 'leased', 'done', 'dead'];

function requireStatus(status: JobStatus): JobStatus {
  if (!jobStatuses.includes(status)) throw new TypeError(`status must be one of ${jobStatuses.join(', ')}`);
  return status;
}

function requireHistoryMessage(message: HistoryMessage, index: number): void {
  if (message.role !== 'user' && message.role !== 'assistant') {
    throw new TypeError(`messages[${index}].role must be 'user' or 'assistant'`);
  }
  if (typeof message.content !== 'string') throw new TypeError(`messages[${index}].content must be a string`);
  if (!Number.isFinite(message.at)) throw new TypeError(`messages[${index}].at must be a time in ms`);
}

function asStoreError(error: unknown, context: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    const message = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(`${context}: ${message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(`${context}: ${String(error)}`);
}

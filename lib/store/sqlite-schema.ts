import type Database from 'better-sqlite3';

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
  {
    version: 4,
    description: 'schedules',
    sql: `
      -- due_at is next_run_at while nobody holds the schedule and lease_until while someone does,
      -- so one index finds both a schedule that came due and one whose holder died mid-run.
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        next_run_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        payload TEXT NOT NULL,
        owner TEXT,
        lease_until INTEGER,
        runs TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX schedules_due ON schedules (due_at);
      CREATE INDEX schedules_scope ON schedules (scope, next_run_at);
      `,
  },
  {
    version: 5,
    description: 'per-chat settings, one row per version',
    sql: `
      CREATE TABLE chat_settings (
        chat_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        settings TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        change TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (chat_id, version)
      ) WITHOUT ROWID;
      CREATE INDEX chat_settings_at ON chat_settings (at);
    `,
  },
  {
    version: 6,
    description: 'dedupe keys without a rowid',
    sql: `
      -- Every webhook admission claims its event id. With a rowid table each claim wrote three
      -- B-trees (the rows, the key's unique index, the expiry index); keyed by the key itself it
      -- writes two, and the lookup reads one tree instead of two.
      CREATE TABLE dedupe_keys_by_key (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO dedupe_keys_by_key (key, expires_at) SELECT key, expires_at FROM dedupe_keys;
      DROP TABLE dedupe_keys;
      ALTER TABLE dedupe_keys_by_key RENAME TO dedupe_keys;
      CREATE INDEX dedupe_keys_expires ON dedupe_keys (expires_at);
    `,
  },
  {
    version: 7,
    description: 'two job indexes fewer',
    sql: `
      -- Every admission inserts one entry into each index of jobs, and each index adds a page to
      -- every group commit. jobs_queue_order only found the newest queue position: a new job now
      -- goes behind the newest unfinished one (the unfinished-jobs index), since queue positions
      -- are only ever compared between unfinished jobs. jobs_created ordered the devtools listing
      -- of every job: it now reads each status's newest through jobs_status_created and merges them.
      DROP INDEX jobs_queue_order;
      DROP INDEX jobs_created;
    `,
  },
  {
    version: 8,
    description: 'new pending jobs counted once per commit',
    sql: `
      -- The tally's insert trigger ran a sub-program for every admission, a quarter of a job
      -- insert's cost. The store now adds the pending jobs a group commit inserted in one
      -- statement before its COMMIT (sqlite-store.ts); rows inserted in another status (only by
      -- hand: the store inserts pending jobs) are still counted here.
      DROP TRIGGER job_counts_insert;
      CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs WHEN NEW.status <> 'pending' BEGIN
        UPDATE job_counts SET count = count + 1 WHERE status = NEW.status;
      END;
    `,
  },
  {
    version: 9,
    description: 'chat settings listed per app',
    sql: `
      -- The devtools list one Feishu app's chats. Ordered by time alone, the listing took the
      -- newest rows of every app and dropped the other apps' afterwards, so an app's chats could be
      -- missing behind another's (and the walk to find a small app's chats read the whole table on
      -- the event loop). The first column is the app of the key as appOfKey reads it
      -- (lib/inbox/app-scope.ts), '' for a key without an app prefix (the default app): the
      -- listing seeks one app and reads its chats newest first, stopping at the limit. The
      -- listing's statement names this index (INDEXED BY), so an expression that differs fails
      -- when the statement is prepared instead of scanning. chat_settings_at served only the old
      -- listing.
      CREATE INDEX chat_settings_app ON chat_settings (
        (CASE WHEN substr(chat_id, 1, 4) = 'app:' AND instr(substr(chat_id, 5), ':') > 0
          THEN substr(chat_id, 5, instr(substr(chat_id, 5), ':') - 1) ELSE '' END),
        at DESC,
        chat_id
      );
      DROP INDEX chat_settings_at;
    `,
  },
];

/**
 * Brings the schema of `db` up to the newest migration, in one immediate transaction. Refuses a
 * file written by a newer build rather than run this build's statements against a schema it does
 * not know.
 *
 * @example
 * migrateSqliteSchema(new Database('./data/bot.db'));
 */
export function migrateSqliteSchema(db: Database.Database): void {
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

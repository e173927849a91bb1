import type Database from 'better-sqlite3';
import type { ChatSettingsVersion, HistoryMessage, Job, JobStatus, Schedule, ScheduleRun } from './store.js';

/*
 * The SQL of the SQLite store, prepared once per connection, and the mapping of its rows to the
 * Store's types. The tables are defined in sqlite-schema.ts.
 */

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

/**
 * The newest version of each chat of one app (`@app`: '' for the default app's keys, which carry
 * no app prefix), most recently changed first, exported so a test can check its plan. The app
 * expression is the one of the chat_settings_app index (sqlite-schema.ts, migration 9), which
 * gives the app's rows newest first: the walk ends after `@limit` chats.
 */
export const LIST_CHAT_SETTINGS_SQL = `
  SELECT COLUMNS FROM chat_settings AS newest INDEXED BY chat_settings_app
  WHERE (CASE WHEN substr(chat_id, 1, 4) = 'app:' AND instr(substr(chat_id, 5), ':') > 0
      THEN substr(chat_id, 5, instr(substr(chat_id, 5), ':') - 1) ELSE '' END) = @app
    AND version = (SELECT max(version) FROM chat_settings WHERE chat_id = newest.chat_id)
  ORDER BY at DESC, chat_id LIMIT @limit`;

/** One purge batch, exported so a test can check it reads only the finished-jobs index. */
export const PURGE_JOBS_SQL = `
  DELETE FROM jobs WHERE rowid IN (
    SELECT rowid FROM jobs INDEXED BY jobs_finished_updated
    WHERE status IN ('done', 'dead') AND updated_at < @before LIMIT @limit)`;

/**
 * The queue position behind every unfinished job: the last entry of the unfinished-jobs index (a
 * seek, however many jobs there are). Positions are only compared between unfinished jobs (the
 * claim, a lane's order, a retried job), so a finished job's position never matters; exported so
 * a test can check its plan.
 */
export const NEXT_QUEUE_ORDER_SQL = `
  SELECT coalesce((SELECT queue_order FROM jobs INDEXED BY jobs_unfinished_order
    WHERE status IN ('pending', 'leased') ORDER BY queue_order DESC LIMIT 1), 0) + 1`;

/**
 * Every job newest first (devtools): each status's newest `limit` through jobs_status_created,
 * merged, so it reads at most four times `limit` rows and needs no index of its own.
 */
export const LIST_JOBS_SQL = `
  SELECT * FROM (${['pending', 'leased', 'done', 'dead']
    .map(
      (status) => `
    SELECT * FROM (SELECT COLUMNS FROM jobs WHERE status = '${status}' ORDER BY created_at DESC, seq DESC LIMIT @limit)`,
    )
    .join(' UNION ALL')})
  ORDER BY created_at DESC, seq DESC LIMIT @limit`;

export interface JobRow {
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

export interface ScheduleRow {
  id: string;
  scope: string;
  next_run_at: number;
  payload: string;
  owner: string | null;
  lease_until: number | null;
  runs: string;
  created_at: number;
  updated_at: number;
}

export interface HistoryRow {
  role: HistoryMessage['role'];
  content: string;
  at: number;
  author: string | null;
  message_id: string | null;
}

/** The store's statements, prepared on `db`; named parameters, as the SQL shows. */
export type SqliteStatements = ReturnType<typeof prepareSqliteStatements>;

/**
 * @example
 * const statements = prepareSqliteStatements(db);
 * statements.getJob.get({ id });
 */
export function prepareSqliteStatements(db: Database.Database) {
  const jobColumns = `seq, id, lane, kind, payload, status, attempts, owner, lease_until, available_at, checkpoint,
    last_error, created_at, updated_at`;
  const scheduleColumns = 'id, scope, next_run_at, payload, owner, lease_until, runs, created_at, updated_at';
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
              (${NEXT_QUEUE_ORDER_SQL}), @now, @now)
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
        queue_order = (${NEXT_QUEUE_ORDER_SQL}), updated_at = @now
      WHERE id = @id AND status = 'dead'`),
    getJob: db.prepare(`SELECT ${jobColumns} FROM jobs WHERE id = @id`),
    listJobs: db.prepare(LIST_JOBS_SQL.replaceAll('COLUMNS', jobColumns)),
    listJobsByStatus: db.prepare(`
      SELECT ${jobColumns} FROM jobs WHERE status = @status ORDER BY created_at DESC, seq DESC LIMIT @limit`),
    countJobs: db.prepare('SELECT status, count FROM job_counts'),
    // The pending jobs one group commit inserted (the tally's insert trigger skips them).
    countInsertedPending: db.prepare("UPDATE job_counts SET count = count + @added WHERE status = 'pending'"),
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
    // A range on the conversation index: every key that starts with the prefix.
    conversationsWithPrefix: db.prepare(
      'SELECT DISTINCT conversation FROM history WHERE conversation >= @prefix AND conversation < @upper',
    ),

    insertChatSettings: db.prepare(`
      INSERT INTO chat_settings (chat_id, version, settings, changed_by, change, at)
      SELECT @chatId, @version, @settings, @changedBy, @change, @at
      WHERE coalesce((SELECT max(version) FROM chat_settings WHERE chat_id = @chatId), 0) = @version - 1`),
    trimChatSettings: db.prepare('DELETE FROM chat_settings WHERE chat_id = @chatId AND version <= @version - @keep'),
    chatSettingsHistory: db.prepare(`
      SELECT ${chatSettingsColumns} FROM chat_settings WHERE chat_id = @chatId ORDER BY version DESC LIMIT @limit`),
    listChatSettings: db.prepare(LIST_CHAT_SETTINGS_SQL.replace('COLUMNS', chatSettingsColumns)),
    deleteChatSettings: db.prepare('DELETE FROM chat_settings WHERE chat_id = @chatId'),

    incrementCounter: db.prepare(`
      INSERT INTO counters (key, window_start, count, expires_at) VALUES (@key, @windowStart, 1, @expiresAt)
      ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1
      RETURNING count`),
    // A total is a counters row with window_start -1 (rate-limit windows start at 0 or later);
    // an expired row not yet swept starts again from this amount.
    addToTotal: db.prepare(`
      INSERT INTO counters (key, window_start, count, expires_at) VALUES (@key, -1, @amount, @expiresAt)
      ON CONFLICT (key, window_start) DO UPDATE SET
        count = CASE WHEN expires_at <= @now THEN excluded.count ELSE count + excluded.count END,
        expires_at = CASE WHEN expires_at <= @now THEN excluded.expires_at ELSE expires_at END
      RETURNING count`),
    // A tally member is a counters row with window_start -2 keyed `tally U+001F member`, so a
    // tally's members are one range of the primary key.
    addToTally: db.prepare(`
      INSERT INTO counters (key, window_start, count, expires_at) VALUES (@key, -2, @amount, @expiresAt)
      ON CONFLICT (key, window_start) DO UPDATE SET
        count = CASE WHEN expires_at <= @now THEN excluded.count ELSE count + excluded.count END,
        expires_at = CASE WHEN expires_at <= @now THEN excluded.expires_at ELSE expires_at END`),
    readTally: db.prepare(`
      SELECT substr(key, @from) AS member, count AS total FROM counters
      WHERE key > @low AND key < @high AND window_start = -2 AND expires_at > @now
      ORDER BY count DESC, key DESC LIMIT @limit`),
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

    addSchedule: db.prepare(`
      INSERT INTO schedules (id, scope, next_run_at, due_at, payload, created_at, updated_at)
      VALUES (@id, @scope, @nextRunAt, @nextRunAt, @payload, @now, @now)
      ON CONFLICT (id) DO NOTHING`),
    countSchedules: db.prepare('SELECT count(*) AS count FROM schedules WHERE scope = @scope'),
    scheduleExists: db.prepare('SELECT 1 FROM schedules WHERE id = @id'),
    getSchedule: db.prepare(`SELECT ${scheduleColumns} FROM schedules WHERE id = @id`),
    listSchedules: db.prepare(`
      SELECT ${scheduleColumns} FROM schedules WHERE scope = @scope ORDER BY next_run_at, id LIMIT @limit`),
    cancelSchedule: db.prepare('DELETE FROM schedules WHERE scope = @scope AND id = @id'),
    dueSchedule: db.prepare('SELECT id FROM schedules WHERE due_at <= @now ORDER BY due_at, id LIMIT 1'),
    leaseSchedule: db.prepare(`
      UPDATE schedules SET owner = @owner, lease_until = @leaseUntil, due_at = @leaseUntil, updated_at = @now
      WHERE id = @id
      RETURNING ${scheduleColumns}`),
    heldScheduleRuns: db.prepare(`
      SELECT runs FROM schedules WHERE id = @id AND owner = @owner AND lease_until IS NOT NULL`),
    moveSchedule: db.prepare(`
      UPDATE schedules SET next_run_at = @nextRunAt, due_at = @nextRunAt, owner = NULL, lease_until = NULL,
        runs = @runs, updated_at = @now
      WHERE id = @id`),
    deleteSchedule: db.prepare('DELETE FROM schedules WHERE id = @id'),

    ping: db.prepare('SELECT 1'),
  };
}

const chatSettingsColumns = 'chat_id, version, settings, changed_by, change, at';

export interface ChatSettingsRow {
  chat_id: string;
  version: number;
  settings: string;
  changed_by: string;
  change: string;
  at: number;
}

export function toChatSettingsVersion(row: ChatSettingsRow): ChatSettingsVersion {
  return {
    chatId: row.chat_id,
    version: row.version,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    changedBy: row.changed_by,
    change: row.change,
    at: row.at,
  };
}

export function toJob(row: JobRow): Job {
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

export function toHistoryMessage(row: HistoryRow): HistoryMessage {
  const message: HistoryMessage = { role: row.role, content: row.content, at: row.at };
  if (row.author !== null) message.author = row.author;
  if (row.message_id !== null) message.messageId = row.message_id;
  return message;
}

export function toSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    scope: row.scope,
    nextRunAt: row.next_run_at,
    payload: JSON.parse(row.payload) as unknown,
    owner: row.owner,
    leaseUntil: row.lease_until,
    runs: JSON.parse(row.runs) as ScheduleRun[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

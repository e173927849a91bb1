import { setImmediate as nextTurn } from 'node:timers/promises';
import { DEFAULT_APP_ID } from '../inbox/app-scope.js';
import { openSqliteConnection, type SqliteConnectionOptions } from './sqlite-connection.js';
import { createGroupCommit, type GroupCommitOptions } from './sqlite-group-commit.js';
import { STORE_LOG_FLUSHES } from './sqlite-log-sync.js';
import {
  type ChatSettingsRow,
  type HistoryRow,
  type JobRow,
  prepareSqliteStatements,
  type ScheduleRow,
  toChatSettingsVersion,
  toHistoryMessage,
  toJob,
  toSchedule,
} from './sqlite-statements.js';
import type {
  AdmissionResult,
  HistoryMessage,
  JobCounts,
  JobStatus,
  NewJob,
  ScheduleRun,
  Store,
  TallyEntry,
} from './store.js';
import { storeArguments, TALLY_SEPARATOR } from './store-arguments.js';

export interface SqliteStoreOptions extends SqliteConnectionOptions, Omit<GroupCommitOptions, 'db' | 'now'> {
  /** Expired dedupe keys and counter windows are deleted every this many writes to them… */
  sweepEvery?: number;
  /** …at most this many rows per sweep, so one call never stalls on a huge backlog. */
  sweepLimit?: number;
}

/** Finished jobs deleted per statement by purgeJobs. */
const PURGE_BATCH = 1_000;

/**
 * The default Store: one SQLite file in WAL mode. Safe for several processes on one host
 * (every write runs in a `BEGIN IMMEDIATE` transaction); use Redis across hosts.
 *
 * The parts: sqlite-connection.ts opens the file (its settings, the schema of sqlite-schema.ts,
 * the WAL checkpointer), sqlite-statements.ts holds the SQL, and every write goes through the
 * group commit of sqlite-group-commit.ts: writes of one event-loop turn share one transaction and
 * settle after its COMMIT. Reads run at once, unless writes are waiting: then they queue behind
 * them, so every caller sees its calls in order. Arguments are checked by store-arguments.ts, as
 * every Store checks them.
 *
 * @example
 * const store = openSqliteStore('./data/bot.db');
 * if (await store.claimKey(`event:${eventId}`, 24 * 3_600_000)) await store.enqueue(job);
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const {
    busyTimeoutMs,
    openBusyTimeoutMs,
    lockWaitMs,
    lockRetryMs,
    maxLockRetryMs,
    checkpointIntervalMs,
    walLimitBytes,
    flushLog,
    maxBatchWrites,
    maxQueuedWrites,
    onCommit,
    sweepEvery = 100,
    sweepLimit = 500,
  } = options;
  const connection = openSqliteConnection(path, {
    busyTimeoutMs,
    openBusyTimeoutMs,
    checkpointIntervalMs,
    walLimitBytes,
    flushLog,
  });
  const { db } = connection;
  const statements = prepareSqliteStatements(db);
  /**
   * Pending jobs inserted by the running batch, added to the tally in one statement before its
   * COMMIT (migration 8): a trigger per insert cost a quarter of the insert.
   */
  let insertedPending = 0;
  const commits = createGroupCommit({
    onBegin: () => {
      insertedPending = 0;
    },
    beforeCommit: () => {
      if (insertedPending === 0) return;
      statements.countInsertedPending.run({ added: insertedPending });
      insertedPending = 0;
    },
    db,
    maxBatchWrites,
    maxQueuedWrites,
    onCommit,
    lockWaitMs,
    lockRetryMs,
    maxLockRetryMs,
    // Every caller (the ack first of all) is answered once its commit is on disk.
    afterCommit: connection.syncLog,
    maxSyncsInFlight: STORE_LOG_FLUSHES,
  });
  const { read, write } = commits;

  /**
   * A write that may insert jobs: when it fails alone (in its savepoint, the others committed),
   * what it added to `insertedPending` goes with it.
   */
  function writeJobs<T>(operation: string, work: () => T): Promise<T> {
    return write(operation, () => {
      const before = insertedPending;
      try {
        return work();
      } catch (error) {
        insertedPending = before;
        throw error;
      }
    });
  }

  // Expired dedupe keys and counter windows go in bounded sweeps, every `sweepEvery` writes.
  const sweepDedupeKeys = everyNth(sweepEvery, (now: number) => {
    statements.sweepDedupeKeys.run({ now, limit: sweepLimit });
  });
  const sweepCounters = everyNth(sweepEvery, (now: number) => {
    statements.sweepCounters.run({ now, limit: sweepLimit });
  });

  // The multi-statement writes below need no transaction of their own: every write runs in its
  // own savepoint inside its batch's transaction (see sqlite-group-commit.ts), so each is atomic.

  /** One dedupe claim (see claimKey). */
  function claimOne(key: string, ttlMs: number, now: number): boolean {
    const claimed = statements.claimKey.run({ key, now, expiresAt: now + ttlMs }).changes === 1;
    sweepDedupeKeys(now);
    return claimed;
  }

  function insertJob(job: NewJob, payload: string, now: number): boolean {
    const inserted = statements.enqueue.run({ id: job.id, lane: job.lane, kind: job.kind, payload, now }).changes === 1;
    if (inserted) insertedPending += 1;
    return inserted;
  }

  function admitOne(
    keys: readonly string[],
    ttlMs: number,
    job: NewJob,
    payload: string,
    now: number,
  ): AdmissionResult {
    for (const key of keys) {
      if (!claimOne(key, ttlMs, now)) return { status: 'duplicate', key };
    }
    return insertJob(job, payload, now) ? { status: 'enqueued' } : { status: 'exists' };
  }

  function leaseNextJob(owner: string, leaseMs: number, kinds: string | null, now: number): JobRow | null {
    const candidate = statements.claimCandidate.get({ now, kinds }) as { seq: number } | undefined;
    if (!candidate) return null;
    return statements.leaseJob.get({ seq: candidate.seq, owner, leaseUntil: now + leaseMs, now }) as JobRow;
  }

  function appendHistoryRows(conversation: string, messages: readonly HistoryMessage[], maxMessages: number): void {
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
  }

  /**
   * Runs `deleteBatch` (at most PURGE_BATCH rows) until a batch comes back short, yielding between
   * batches: one synchronous delete of a day's backlog would hold the event loop, and with it every
   * webhook ack, for as long as it takes.
   */
  async function purgeInBatches(operation: string, before: number, deleteBatch: () => number): Promise<number> {
    storeArguments.purge(before);
    let total = 0;
    for (;;) {
      const deleted = await write(operation, deleteBatch);
      total += deleted;
      if (deleted < PURGE_BATCH) return total;
      await nextTurn();
    }
  }

  return {
    kind: 'sqlite',

    claimKey(key, ttlMs, now = Date.now()) {
      return write('claimKey', () => {
        storeArguments.claimKey(key, ttlMs);
        return claimOne(key, ttlMs, now);
      });
    },

    releaseKey(key) {
      return write('releaseKey', () => {
        statements.releaseKey.run({ key });
      });
    },

    admit(admission, now = Date.now()) {
      return writeJobs('admit', () => {
        const payload = storeArguments.admit(admission);
        return admitOne(admission.keys, admission.ttlMs, admission.job, payload, now);
      });
    },

    enqueue(job, now = Date.now()) {
      return writeJobs('enqueue', () => insertJob(job, storeArguments.enqueue(job), now));
    },

    claimNextJob(options) {
      const { owner, leaseMs, kinds, now = Date.now() } = options;
      return write('claimNextJob', () => {
        storeArguments.claimNextJob(options);
        if (kinds !== undefined && kinds.length === 0) return null;
        const row = leaseNextJob(owner, leaseMs, kinds ? JSON.stringify(kinds) : null, now);
        return row ? toJob(row) : null;
      });
    },

    renewLease(id, owner, leaseMs, now = Date.now()) {
      return write('renewLease', () => {
        storeArguments.renewLease(leaseMs);
        return statements.renewLease.run({ id, owner, leaseUntil: now + leaseMs, now }).changes === 1;
      });
    },

    saveCheckpoint(id, owner, checkpoint) {
      return write('saveCheckpoint', () => {
        const value = storeArguments.saveCheckpoint(checkpoint);
        return statements.saveCheckpoint.run({ id, owner, checkpoint: value }).changes === 1;
      });
    },

    completeJob(id, owner, now = Date.now()) {
      return write('completeJob', () => statements.completeJob.run({ id, owner, now }).changes === 1);
    },

    failJob(id, owner, options) {
      const { error, dead, retryInMs = 0, now = Date.now() } = options;
      return write('failJob', () => {
        storeArguments.failJob(options);
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

    listJobs(options) {
      const { status, limit } = options;
      return read('listJobs', () => {
        storeArguments.listJobs(options);
        const rows = (
          status === undefined ? statements.listJobs.all({ limit }) : statements.listJobsByStatus.all({ status, limit })
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
        storeArguments.appendHistory(conversation, messages, maxMessages);
        appendHistoryRows(conversation, messages, maxMessages);
      });
    },

    readHistory(conversation, limit) {
      return read('readHistory', () => {
        storeArguments.limit(limit);
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

    clearHistoryWithPrefix(prefix) {
      return write('clearHistoryWithPrefix', () => {
        storeArguments.clearHistoryWithPrefix(prefix);
        const conversations = statements.conversationsWithPrefix.all({ prefix, upper: `${prefix}\u{10ffff}` }) as {
          conversation: string;
        }[];
        for (const { conversation } of conversations) statements.clearHistory.run({ conversation });
        return conversations.length;
      });
    },

    saveChatSettings(entry, keepVersions) {
      return write('saveChatSettings', () => {
        const settings = storeArguments.saveChatSettings(entry, keepVersions);
        const { chatId, version, changedBy, change, at } = entry;
        const inserted = statements.insertChatSettings.run({ chatId, version, settings, changedBy, change, at });
        if (inserted.changes !== 1) return false;
        statements.trimChatSettings.run({ chatId, version, keep: keepVersions });
        return true;
      });
    },

    chatSettingsHistory(chatId, limit) {
      return read('chatSettingsHistory', () => {
        storeArguments.limit(limit);
        const rows = statements.chatSettingsHistory.all({ chatId, limit }) as ChatSettingsRow[];
        return rows.map(toChatSettingsVersion);
      });
    },

    listChatSettings(appId, limit) {
      return read('listChatSettings', () => {
        storeArguments.listChatSettings(appId, limit);
        // The index keys the default app's chats, whose keys carry no app prefix, under ''.
        const app = appId === DEFAULT_APP_ID ? '' : appId;
        return (statements.listChatSettings.all({ app, limit }) as ChatSettingsRow[]).map(toChatSettingsVersion);
      });
    },

    deleteChatSettings(chatId) {
      return write('deleteChatSettings', () => {
        statements.deleteChatSettings.run({ chatId });
      });
    },

    incrementCounter(key, windowMs, now = Date.now()) {
      return write('incrementCounter', () => {
        storeArguments.incrementCounter(key, windowMs);
        const windowStart = Math.floor(now / windowMs) * windowMs;
        const row = statements.incrementCounter.get({ key, windowStart, expiresAt: windowStart + windowMs }) as {
          count: number;
        };
        sweepCounters(now);
        return row.count;
      });
    },

    addToTotal(key, amount, ttlMs, now = Date.now()) {
      return write('addToTotal', () => {
        storeArguments.addToTotal(key, amount, ttlMs);
        const row = statements.addToTotal.get({ key, amount, now, expiresAt: now + ttlMs }) as { count: number };
        sweepCounters(now);
        return row.count;
      });
    },

    addToTallies(additions, ttlMs, now = Date.now()) {
      return write('addToTallies', () => {
        storeArguments.addToTallies(additions, ttlMs);
        for (const { tally, member, amount } of additions) {
          statements.addToTally.run({
            key: `${tally}${TALLY_SEPARATOR}${member}`,
            amount,
            now,
            expiresAt: now + ttlMs,
          });
        }
        sweepCounters(now);
      });
    },

    readTally(tally, limit, now = Date.now()) {
      return read('readTally', () => {
        storeArguments.readTally(tally, limit);
        // The separator is U+001F, so every member's key lies between it and U+0020 after the name.
        return statements.readTally.all({
          // SQLite counts characters, not UTF-16 units.
          from: [...tally].length + 2,
          low: `${tally}${TALLY_SEPARATOR}`,
          high: `${tally} `,
          now,
          limit,
        }) as TallyEntry[];
      });
    },

    putRecord(collection, id, value, maxRecords) {
      return write('putRecord', () => {
        const json = storeArguments.putRecord(collection, id, value, maxRecords);
        statements.upsertRecord.run({ collection, id, value: json });
        statements.trimRecords.run({ collection, keep: maxRecords });
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
        storeArguments.limit(limit);
        const rows = statements.listRecords.all({ collection, limit }) as { value: string }[];
        return rows.map((row) => JSON.parse(row.value) as unknown);
      });
    },

    addSchedule(schedule, maxPerScope, now = Date.now()) {
      return write('addSchedule', () => {
        const payload = storeArguments.addSchedule(schedule, maxPerScope);
        if (statements.scheduleExists.get({ id: schedule.id })) return 'exists' as const;
        const { count } = statements.countSchedules.get({ scope: schedule.scope }) as { count: number };
        if (count >= maxPerScope) return 'full' as const;
        statements.addSchedule.run({ ...schedule, payload, now });
        return 'added' as const;
      });
    },

    getSchedule(id) {
      return read('getSchedule', () => {
        const row = statements.getSchedule.get({ id }) as ScheduleRow | undefined;
        return row ? toSchedule(row) : null;
      });
    },

    listSchedules(scope, limit) {
      return read('listSchedules', () => {
        storeArguments.limit(limit);
        return (statements.listSchedules.all({ scope, limit }) as ScheduleRow[]).map(toSchedule);
      });
    },

    cancelSchedule(scope, id) {
      return write('cancelSchedule', () => statements.cancelSchedule.run({ scope, id }).changes === 1);
    },

    claimDueSchedule({ owner, leaseMs, now = Date.now() }) {
      return write('claimDueSchedule', () => {
        storeArguments.claimDueSchedule(owner, leaseMs);
        const due = statements.dueSchedule.get({ now }) as { id: string } | undefined;
        if (!due) return null;
        const row = statements.leaseSchedule.get({ id: due.id, owner, leaseUntil: now + leaseMs, now }) as ScheduleRow;
        return toSchedule(row);
      });
    },

    finishScheduleRun(id, owner, { run, nextRunAt, maxRuns, now = Date.now() }) {
      return write('finishScheduleRun', () => {
        storeArguments.finishScheduleRun(run, nextRunAt, maxRuns);
        const held = statements.heldScheduleRuns.get({ id, owner }) as { runs: string } | undefined;
        if (!held) return false;
        if (nextRunAt === null) {
          statements.deleteSchedule.run({ id });
          return true;
        }
        const runs = [run, ...(JSON.parse(held.runs) as ScheduleRun[])].slice(0, maxRuns);
        statements.moveSchedule.run({ id, nextRunAt, runs: JSON.stringify(runs), now });
        return true;
      });
    },

    ping() {
      return read('ping', () => {
        statements.ping.get();
      });
    },

    async close() {
      if (commits.closed) return;
      // Writes already asked for are committed, not dropped: their callers are waiting on them.
      commits.close();
      await connection.close();
    },
  };
}

/** Calls `run` on every `every`-th call and does nothing on the others. */
function everyNth<Argument>(every: number, run: (argument: Argument) => void): (argument: Argument) => void {
  let calls = 0;
  return (argument) => {
    calls += 1;
    if (calls < every) return;
    calls = 0;
    run(argument);
  };
}

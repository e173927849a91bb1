import { errorMessage } from '../util/error-message.js';
import {
  type Admission,
  type ChatSettingsVersion,
  type ClaimOptions,
  type FailOptions,
  type HistoryMessage,
  type JobStatus,
  type NewJob,
  type NewSchedule,
  type ScheduleRun,
  StoreArgumentError,
  type TallyAddition,
} from './store.js';

/** Between a tally's name and a member in the SQLite row key of a tally member. */
export const TALLY_SEPARATOR = '\u001f';

/**
 * The checks of every Store on its arguments, run before it reads or writes anything: one
 * function per Store method that takes something that can be wrong, so SQLite and Redis refuse
 * exactly the same calls with the same StoreArgumentError. Where a method stores a value as JSON
 * the function returns that JSON, so the check and what is written cannot disagree.
 *
 * @example
 * enqueue(job, now) {
 *   const payload = storeArguments.enqueue(job); // throws StoreArgumentError
 *   …insert job.id, job.lane, job.kind, payload…
 * }
 */
export const storeArguments = {
  clearHistoryWithPrefix(prefix: string): void {
    requireText(prefix, 'prefix');
  },

  /** Returns the settings as JSON. */
  saveChatSettings(entry: ChatSettingsVersion, keepVersions: number): string {
    requireText(entry.chatId, 'entry.chatId');
    requireText(entry.changedBy, 'entry.changedBy');
    requirePositiveInteger(entry.version, 'entry.version');
    requirePositiveInteger(keepVersions, 'keepVersions');
    if (typeof entry.settings !== 'object' || entry.settings === null || Array.isArray(entry.settings)) {
      throw StoreArgumentError.type('entry.settings must be an object');
    }
    return toJson(entry.settings, 'entry.settings');
  },

  listChatSettings(appId: string, limit: number): void {
    requireText(appId, 'appId');
    requireLimit(limit, 'limit');
  },

  claimKey(key: string, ttlMs: number): void {
    requireText(key, 'key');
    requirePositiveNumber(ttlMs, 'ttlMs');
  },

  /** Returns the job's payload as JSON. */
  admit({ keys, ttlMs, job }: Admission): string {
    for (const [index, key] of keys.entries()) requireText(key, `keys[${index}]`);
    requirePositiveNumber(ttlMs, 'ttlMs');
    return storeArguments.enqueue(job);
  },

  /** Returns the job's payload as JSON. */
  enqueue(job: NewJob): string {
    requireText(job.id, 'job.id');
    requireText(job.lane, 'job.lane');
    requireText(job.kind, 'job.kind');
    return toJson(job.payload, 'job.payload');
  },

  claimNextJob({ owner, leaseMs }: ClaimOptions): void {
    requireText(owner, 'owner');
    requirePositiveNumber(leaseMs, 'leaseMs');
  },

  renewLease(leaseMs: number): void {
    requirePositiveNumber(leaseMs, 'leaseMs');
  },

  /** Returns the checkpoint as JSON; undefined clears it ("no progress to resume"), as null does. */
  saveCheckpoint(checkpoint: unknown): string {
    return checkpoint === undefined ? 'null' : toJson(checkpoint, 'checkpoint');
  },

  failJob({ retryInMs = 0 }: FailOptions): void {
    if (!Number.isFinite(retryInMs) || retryInMs < 0) {
      throw StoreArgumentError.range(`retryInMs must be a non-negative number, got ${String(retryInMs)}`);
    }
  },

  listJobs({ status, limit }: { status?: JobStatus; limit: number }): void {
    requireLimit(limit, 'limit');
    if (status !== undefined && !JOB_STATUSES.includes(status)) {
      throw StoreArgumentError.type(`status must be one of ${JOB_STATUSES.join(', ')}`);
    }
  },

  /** purgeJobs and purgeHistory. */
  purge(before: number): void {
    if (!Number.isFinite(before)) throw StoreArgumentError.range(`before must be a time in ms, got ${String(before)}`);
  },

  appendHistory(conversation: string, messages: readonly HistoryMessage[], maxMessages: number): void {
    requireText(conversation, 'conversation');
    requirePositiveInteger(maxMessages, 'maxMessages');
    messages.forEach(requireHistoryMessage);
  },

  /** readHistory, listRecords: how many to return at most (0 returns none). */
  limit(limit: number): void {
    requireLimit(limit, 'limit');
  },

  incrementCounter(key: string, windowMs: number): void {
    requireText(key, 'key');
    requirePositiveInteger(windowMs, 'windowMs');
  },

  addToTallies(additions: readonly TallyAddition[], ttlMs: number): void {
    if (!Array.isArray(additions) || additions.length > 100) {
      throw StoreArgumentError.range('additions must be an array of at most 100');
    }
    for (const [index, { tally, member, amount }] of additions.entries()) {
      requireText(tally, `additions[${index}].tally`);
      requireText(member, `additions[${index}].member`);
      // The separator of a tally's rows in SQLite.
      if (tally.includes(TALLY_SEPARATOR)) throw StoreArgumentError.range(`additions[${index}].tally has U+001F`);
      requireLimit(amount, `additions[${index}].amount`);
    }
    requirePositiveInteger(ttlMs, 'ttlMs');
  },

  readTally(tally: string, limit: number): void {
    requireText(tally, 'tally');
    if (tally.includes(TALLY_SEPARATOR)) throw StoreArgumentError.range('tally has U+001F');
    requireLimit(limit, 'limit');
  },

  addToTotal(key: string, amount: number, ttlMs: number): void {
    requireText(key, 'key');
    requireLimit(amount, 'amount');
    requirePositiveInteger(ttlMs, 'ttlMs');
  },

  /** Returns the value as JSON. */
  putRecord(collection: string, id: string, value: unknown, maxRecords: number): string {
    requireText(collection, 'collection');
    requireText(id, 'id');
    requirePositiveInteger(maxRecords, 'maxRecords');
    return toJson(value, 'record value');
  },

  /** Returns the schedule's payload as JSON. */
  addSchedule(schedule: NewSchedule, maxPerScope: number): string {
    requireText(schedule.id, 'schedule.id');
    requireText(schedule.scope, 'schedule.scope');
    requireTime(schedule.nextRunAt, 'schedule.nextRunAt');
    requirePositiveInteger(maxPerScope, 'maxPerScope');
    return toJson(schedule.payload, 'schedule.payload');
  },

  claimDueSchedule(owner: string, leaseMs: number): void {
    requireText(owner, 'owner');
    requirePositiveNumber(leaseMs, 'leaseMs');
  },

  /** Returns the run as JSON. */
  finishScheduleRun(run: ScheduleRun, nextRunAt: number | null, maxRuns: number): string {
    if (nextRunAt !== null) requireTime(nextRunAt, 'nextRunAt');
    requirePositiveInteger(maxRuns, 'maxRuns');
    requireTime(run.dueAt, 'run.dueAt');
    requireTime(run.at, 'run.at');
    if (run.outcome !== 'ran' && run.outcome !== 'skipped') {
      throw StoreArgumentError.type("run.outcome must be 'ran' or 'skipped'");
    }
    return toJson(run, 'run');
  },
};

/** Every status a job can have, in the order counts are reported. */
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'leased', 'done', 'dead'];

function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    // A BigInt or a cycle: JSON cannot hold it.
    throw StoreArgumentError.type(`${what} must be JSON-serialisable: ${errorMessage(error)}`);
  }
  if (text === undefined) throw StoreArgumentError.type(`${what} must be JSON-serialisable, got ${typeof value}`);
  return text;
}

function requireText(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0)
    throw StoreArgumentError.type(`${what} must be a non-empty string`);
}

function requireTime(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw StoreArgumentError.range(`${what} must be a time in ms, got ${value}`);
}

function requirePositiveNumber(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw StoreArgumentError.range(`${what} must be a positive number, got ${value}`);
  }
}

function requirePositiveInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw StoreArgumentError.range(`${what} must be a positive integer, got ${value}`);
  }
}

function requireLimit(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw StoreArgumentError.range(`${what} must be a non-negative integer, got ${value}`);
  }
}

function requireHistoryMessage(message: HistoryMessage, index: number): void {
  if (message.role !== 'user' && message.role !== 'assistant') {
    throw StoreArgumentError.type(`messages[${index}].role must be 'user' or 'assistant'`);
  }
  if (typeof message.content !== 'string') throw StoreArgumentError.type(`messages[${index}].content must be a string`);
  if (!Number.isFinite(message.at)) throw StoreArgumentError.type(`messages[${index}].at must be a time in ms`);
}

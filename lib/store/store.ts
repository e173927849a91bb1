/**
 * The one persistence seam of the bot. The inbox (dedupe + durable jobs), memory (history),
 * conversation policy (rate-limit counters) and devtools (recent traces) all go through it, so
 * one process on SQLite and N processes on Redis behave the same. Every implementation must pass
 * test/store/store-conformance.ts unchanged.
 *
 * Times are epoch milliseconds. Methods taking `now` use it instead of the clock so tests can
 * move time; production callers leave it out.
 */

export type JobStatus = 'pending' | 'leased' | 'done' | 'dead';

export interface NewJob {
  /** Stable id; enqueue is idempotent on it (a redelivered message maps to the same id). */
  id: string;
  /** Jobs of one lane run one at a time, oldest first (a conversation: chat, or thread in a chat). */
  lane: string;
  /** What the worker does with it, e.g. 'answer' or 'notice'. */
  kind: string;
  /** JSON-serialisable payload (the inbound event). */
  payload: unknown;
}

export interface Job extends NewJob {
  status: JobStatus;
  /** How many times a worker has claimed it (a claim after a crashed holder counts). */
  attempts: number;
  owner: string | null;
  leaseUntil: number | null;
  /** Earliest time a pending job may be claimed (retry back-off). */
  availableAt: number;
  /** Progress a worker saved (e.g. the card it is streaming into), so a resumed job continues it. */
  checkpoint: unknown;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  /** Only jobs of these kinds; all kinds when absent. */
  kinds?: readonly string[];
  now?: number;
}

export interface FailOptions {
  error: string;
  /** true: to the dead-letter state; false: back to pending after `retryInMs`. */
  dead: boolean;
  retryInMs?: number;
  now?: number;
}

export type JobCounts = Record<JobStatus, number>;

/** What the inbox hands `admit` for one delivery: its dedupe keys and the job it becomes. */
export interface Admission {
  /** Claimed in order for `ttlMs` (e.g. the event id, then the message id). */
  keys: readonly string[];
  ttlMs: number;
  job: NewJob;
}

/**
 * - `enqueued`: every key claimed and the job added.
 * - `duplicate`: `key` was already held; the keys before it are now claimed, nothing was enqueued.
 * - `exists`: every key claimed, but a job with this id was already there (it outlived its keys).
 */
export type AdmissionResult = { status: 'enqueued' } | { status: 'duplicate'; key: string } | { status: 'exists' };

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
  /** Epoch ms when it was said. */
  at: number;
  /** Display name or open_id of who said it, for group context. */
  author?: string;
  /** Feishu message id, so a thread fetched from Feishu is not stored twice. */
  messageId?: string;
}

/**
 * One version of a chat's settings: the whole settings object as it stood after one change, who
 * made the change, what it was and when. Version 1 is the first change; each save adds one.
 */
export interface ChatSettingsVersion {
  chatId: string;
  version: number;
  /** The chat's own values (a JSON object); keys it does not set come from the global defaults. */
  settings: Record<string, unknown>;
  /** Who changed it: an open_id, or `devtools`. */
  changedBy: string;
  /** What changed, in words (e.g. `model = gpt-4o`). */
  change: string;
  /** Epoch ms. */
  at: number;
}

/** A durable schedule as the store keeps it; what it does (cron, time zone, text) is in `payload`. */
export interface NewSchedule {
  /** Stable id; adding is idempotent on it. */
  id: string;
  /** Whose it is (a chat or a user): the per-scope limit, listing and cancelling go by it. */
  scope: string;
  /** When it is next due, epoch ms. */
  nextRunAt: number;
  /** JSON-serialisable description (schedule-payload.ts in lib/schedules). */
  payload: unknown;
}

/** One due time of a schedule and what became of it. */
export interface ScheduleRun {
  /** The due time this run was for. */
  dueAt: number;
  /** When the scheduler handled it. */
  at: number;
  /** `ran`: its job was enqueued; `skipped`: too late (missed by more than the allowed delay). */
  outcome: 'ran' | 'skipped';
  /** The job that runs it, for `ran`. */
  jobId?: string;
}

export interface Schedule extends NewSchedule {
  /** The scheduler instance handling its due time now, while `leaseUntil` lies ahead. */
  owner: string | null;
  leaseUntil: number | null;
  /** Newest first, at most the `maxRuns` given to `finishScheduleRun`. */
  runs: ScheduleRun[];
  createdAt: number;
  updatedAt: number;
}

/** `added`; `exists` (the id is taken, nothing changed); `full` (the scope holds `maxPerScope` already). */
export type AddScheduleResult = 'added' | 'exists' | 'full';

export interface ClaimScheduleOptions {
  owner: string;
  leaseMs: number;
  now?: number;
}

export interface FinishScheduleRunOptions {
  run: ScheduleRun;
  /** The next due time, or null when there is none (a one-off): the schedule is deleted. */
  nextRunAt: number | null;
  /** Runs kept in the schedule's history. */
  maxRuns: number;
  now?: number;
}

/** One addition to a tally: `amount` onto `member`'s total in `tally`. */
export interface TallyAddition {
  tally: string;
  member: string;
  amount: number;
}

/** A member of a tally and its total. */
export interface TallyEntry {
  member: string;
  total: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';

  // ── dedupe ────────────────────────────────────────────────────────────────
  /** Atomically claims `key` for `ttlMs`. True for exactly one caller while the claim lives. */
  claimKey(key: string, ttlMs: number, now?: number): Promise<boolean>;
  /** Drops a claim, so a delivery we failed to persist is processed when Feishu retries it. */
  releaseKey(key: string): Promise<void>;

  /**
   * `claimKey` for each key, then `enqueue`, as ONE atomic step: the ack path's single durable
   * write (one commit or one round trip instead of three), and no crash between the claims and
   * the enqueue can leave a message claimed but never queued.
   */
  admit(admission: Admission, now?: number): Promise<AdmissionResult>;

  // ── durable job queue with leases ──────────────────────────────────────────
  /** Adds a pending job. False (and no change) when a job with this id already exists. */
  enqueue(job: NewJob, now?: number): Promise<boolean>;
  /**
   * Leases the oldest claimable job: pending and available, or leased with an expired lease
   * (its holder died), AND the oldest unfinished job of its lane (per-lane FIFO, and a lane
   * belongs to one holder at a time, across processes). Increments `attempts`.
   */
  claimNextJob(options: ClaimOptions): Promise<Job | null>;
  /** Extends a lease still held by `owner`. False when it was lost (expired and taken). */
  renewLease(id: string, owner: string, leaseMs: number, now?: number): Promise<boolean>;
  /** Saves worker progress on a job `owner` still holds. */
  saveCheckpoint(id: string, owner: string, checkpoint: unknown): Promise<boolean>;
  completeJob(id: string, owner: string, now?: number): Promise<boolean>;
  failJob(id: string, owner: string, options: FailOptions): Promise<boolean>;
  /** Hands a held job back untouched (graceful shutdown); the attempt does not count. */
  releaseJob(id: string, owner: string, now?: number): Promise<boolean>;
  /** Dead-letter → pending with attempts reset (devtools "retry"). */
  retryJob(id: string, now?: number): Promise<boolean>;
  getJob(id: string): Promise<Job | null>;
  /** Newest first. */
  listJobs(options: { status?: JobStatus; limit: number }): Promise<Job[]>;
  countJobs(): Promise<JobCounts>;
  /** Deletes done jobs finished before `before`; dead jobs are kept until retried or purged by age too. */
  purgeJobs(before: number): Promise<number>;

  // ── conversation history ───────────────────────────────────────────────────
  /** Appends in order and keeps only the newest `maxMessages` of the conversation. */
  appendHistory(conversation: string, messages: readonly HistoryMessage[], maxMessages: number): Promise<void>;
  /** Oldest first, the newest `limit` messages. */
  readHistory(conversation: string, limit: number): Promise<HistoryMessage[]>;
  clearHistory(conversation: string): Promise<void>;
  /** Deletes whole conversations whose newest message is older than `before`; returns how many. */
  purgeHistory(before: number): Promise<number>;
  /** Deletes every conversation whose key starts with `prefix` (a chat left); returns how many. */
  clearHistoryWithPrefix(prefix: string): Promise<number>;

  // ── per-chat settings, versioned ────────────────────────────────────────────
  /**
   * Saves `entry` as the chat's newest version if and only if it is exactly one more than the
   * version stored now (0 when there is none): two admins saving at once cannot both win, the
   * loser gets false and reads again. Keeps the newest `keepVersions` versions of the chat.
   */
  saveChatSettings(entry: ChatSettingsVersion, keepVersions: number): Promise<boolean>;
  /** The chat's versions, newest first (the first is the one in effect); empty when never set. */
  chatSettingsHistory(chatId: string, limit: number): Promise<ChatSettingsVersion[]>;
  /**
   * The newest version of each chat of Feishu app `appId` that has settings, most recently changed
   * first. A chat's app is the app of its key (`appOfKey` in lib/inbox/app-scope.ts): keys of app
   * `alpha` start `app:alpha:`, the default app's carry no such prefix. The app is picked before
   * `limit` applies, so one app's many chats never crowd another's out of its listing.
   */
  listChatSettings(appId: string, limit: number): Promise<ChatSettingsVersion[]>;
  /** Forgets a chat's settings and their history. */
  deleteChatSettings(chatId: string): Promise<void>;

  // ── counters with expiry (rate limits) ─────────────────────────────────────
  /** Adds one to the fixed window of `windowMs` containing `now`; returns the new count. */
  incrementCounter(key: string, windowMs: number, now?: number): Promise<number>;
  /**
   * Adds `amount` (a non-negative integer; 0 only reads) to a running total that expires `ttlMs`
   * after its first addition, and returns the new total. Callers put the period in the key (a
   * day's spend is `spend:chat:c1:2026-12-07`), so no window boundary can split it.
   */
  addToTotal(key: string, amount: number, ttlMs: number, now?: number): Promise<number>;

  // ── tallies (spend per chat, person, model and day, listed biggest first) ──
  /**
   * Adds each amount (a non-negative integer) to its member's running total in its tally, all at
   * once. A member's total expires `ttlMs` after its first addition (callers put the period in
   * the tally's name, e.g. `spend:default:2026-12-07:chat`).
   */
  addToTallies(additions: readonly TallyAddition[], ttlMs: number, now?: number): Promise<void>;
  /** A tally's members, biggest total first, at most `limit`; expired ones are left out. */
  readTally(tally: string, limit: number, now?: number): Promise<TallyEntry[]>;

  // ── small records (devtools traces) ────────────────────────────────────────
  /** Upserts a record and keeps only the `maxRecords` most recently written of the collection. */
  putRecord(collection: string, id: string, value: unknown, maxRecords: number): Promise<void>;
  getRecord(collection: string, id: string): Promise<unknown | null>;
  /** Most recently written first. */
  listRecords(collection: string, limit: number): Promise<unknown[]>;

  // ── schedules (durable, claimed with leases like jobs) ─────────────────────
  /** Adds a schedule unless its id exists or its scope already holds `maxPerScope`. */
  addSchedule(schedule: NewSchedule, maxPerScope: number, now?: number): Promise<AddScheduleResult>;
  getSchedule(id: string): Promise<Schedule | null>;
  /** A scope's schedules, soonest due first. */
  listSchedules(scope: string, limit: number): Promise<Schedule[]>;
  /** Deletes the scope's schedule `id`. False when there is none (or it belongs to another scope). */
  cancelSchedule(scope: string, id: string): Promise<boolean>;
  /**
   * Leases the schedule due soonest whose due time has come (`nextRunAt <= now`) and that nobody
   * holds (or whose holder's lease expired: it died mid-run). One caller wins, across processes.
   */
  claimDueSchedule(options: ClaimScheduleOptions): Promise<Schedule | null>;
  /**
   * Records a run of a schedule `owner` holds and releases it: moved to `nextRunAt`, or deleted
   * when that is null. False when the lease was lost or the schedule was cancelled meanwhile.
   */
  finishScheduleRun(id: string, owner: string, options: FinishScheduleRunOptions): Promise<boolean>;

  /** Throws when the backing service cannot be reached (readiness, webhook 503). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a store when its backing service is unreachable: callers answer 503, not 500. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
  static isInstance(error: unknown): error is StoreUnavailableError {
    return error instanceof Error && (error as { code?: unknown }).code === 'STORE_UNAVAILABLE';
  }
}

/**
 * What every Store throws, before it reads or writes anything, for an argument it cannot take: a
 * `TypeError` for a value of the wrong kind (an empty id, a payload JSON cannot hold) and a
 * `RangeError` for a number out of range (a ttl of 0, a negative limit), as Node's own APIs do,
 * both with `code` STORE_INVALID_ARGUMENT. It is the caller's bug, never an outage: retrying
 * cannot help. store-arguments.ts makes them, so SQLite and Redis refuse the same arguments with
 * the same error (test/store/store-conformance.ts checks).
 *
 * @example
 * if (StoreArgumentError.isInstance(error)) log.error({ reason: error.message }, 'store misuse');
 */
export type StoreArgumentError = (TypeError | RangeError) & { readonly code: 'STORE_INVALID_ARGUMENT' };

export const StoreArgumentError = {
  code: 'STORE_INVALID_ARGUMENT' as const,
  /** A value of the wrong kind. */
  type(message: string): StoreArgumentError {
    return Object.assign(new TypeError(message), { code: StoreArgumentError.code });
  },
  /** A number out of range. */
  range(message: string): StoreArgumentError {
    return Object.assign(new RangeError(message), { code: StoreArgumentError.code });
  },
  isInstance(error: unknown): error is StoreArgumentError {
    return (
      (error instanceof TypeError || error instanceof RangeError) &&
      (error as { code?: unknown }).code === StoreArgumentError.code
    );
  },
};

/**
 * Every Store method that changes state. Whatever watches writes (the store-write health signal,
 * the webhook fuzzing's "a rejected request writes nothing") uses this one list.
 */
export const STORE_WRITE_METHODS: ReadonlySet<string> = new Set<keyof Store>([
  'claimKey',
  'releaseKey',
  'admit',
  'enqueue',
  'claimNextJob',
  'renewLease',
  'saveCheckpoint',
  'completeJob',
  'failJob',
  'releaseJob',
  'retryJob',
  'purgeJobs',
  'appendHistory',
  'clearHistory',
  'purgeHistory',
  'clearHistoryWithPrefix',
  'saveChatSettings',
  'deleteChatSettings',
  'incrementCounter',
  'addToTotal',
  'addToTallies',
  'putRecord',
  'addSchedule',
  'cancelSchedule',
  'claimDueSchedule',
  'finishScheduleRun',
]);

import { Redis, type RedisOptions } from 'ioredis';
import { appOfKey, DEFAULT_APP_ID } from '../inbox/app-scope.js';
import { backoffDelay } from '../util/backoff.js';
import { errorMessage } from '../util/error-message.js';
import {
  ADD_SCHEDULE,
  ADD_TO_TALLIES,
  ADD_TO_TOTAL,
  ADMIT,
  BACK_TO_PENDING,
  CANCEL_SCHEDULE,
  CHECKPOINT,
  CLAIM,
  CLAIM_KEY,
  CLAIM_SCHEDULE,
  ENQUEUE,
  FINISH,
  FINISH_SCHEDULE_RUN,
  LANE_PAGE_SIZE,
  LIST_CHAT_SETTINGS,
  PURGE,
  PURGE_BATCH,
  PUT_RECORD,
  READ_TALLY,
  RENEW,
  RETRY_DEAD,
  runScript,
  SAVE_CHAT_SETTINGS,
} from './redis-scripts.js';
import {
  type AddScheduleResult,
  type Admission,
  type AdmissionResult,
  type ChatSettingsVersion,
  type ClaimOptions,
  type ClaimScheduleOptions,
  type FailOptions,
  type FinishScheduleRunOptions,
  type HistoryMessage,
  type Job,
  type JobCounts,
  type JobStatus,
  type NewJob,
  type NewSchedule,
  type Schedule,
  type ScheduleRun,
  type Store,
  StoreArgumentError,
  StoreUnavailableError,
  type TallyAddition,
  type TallyEntry,
} from './store.js';
import { JOB_STATUSES, storeArguments } from './store-arguments.js';

/**
 * The Store on Redis, for several instances (PM2 cluster, several hosts, several long-connection
 * clients) that must share dedupe claims, the job queue, memory and rate limits.
 *
 * Jobs live in hashes; each lane is a list of its unfinished job ids in enqueue order and the
 * `lanes` sorted set orders lanes by the sequence number of their head job. A claim is one Lua
 * script that walks lanes oldest-head-first and leases the first claimable head, so per-lane FIFO
 * and "one holder per lane" hold across processes without a separate lock. Lease expiry is a
 * timestamp in the job, compared with the caller's clock inside the script (not a Redis TTL), so a
 * dead holder's job is reclaimed by whoever claims next. We chose this over Streams + XAUTOCLAIM
 * because consumer groups deliver per stream, not per lane: they cannot keep one conversation's
 * messages in order while another instance works a different conversation.
 *
 * Scripts touch keys built from a prefix, so this targets a single Redis (or a primary with
 * replicas), not Redis Cluster; docs/store.md says so. The scripts are in redis-scripts.ts;
 * arguments are checked by store-arguments.ts, as every Store checks them.
 */

/** Pauses between reconnection attempts: ioredis counts `times` from 1. */
const RECONNECT_BACKOFF = { initialMs: 100, maxMs: 2_000 };

export interface RedisStoreOptions {
  instanceId?: string;
  /** Milliseconds a command may take before it fails (so the webhook answers 503, not hangs). */
  commandTimeoutMs?: number;
}

/**
 * Opens a Redis store. `url` is `redis://[user:password@]host:port[/db][?prefix=name:]`.
 *
 * @example
 * const store = await openRedisStore('redis://127.0.0.1:6379/0?prefix=bot:');
 */
export async function openRedisStore(
  url: string,
  { commandTimeoutMs = 2_000 }: RedisStoreOptions = {},
): Promise<Store> {
  const parsed = new URL(url);
  const prefix = parsed.searchParams.get('prefix') ?? 'feishu-bot:';
  const options: RedisOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    // While Redis is down, fail at once instead of queueing: the webhook must answer 503 so
    // Feishu redelivers, rather than ack an event it could not persist.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    lazyConnect: true,
    // Reconnect forever with a capped back-off (0.1 s doubling to 2 s); readiness reports the
    // outage meanwhile.
    retryStrategy: (times) => backoffDelay(times, RECONNECT_BACKOFF),
  };
  const redis = new Redis(options);
  redis.on('error', () => {
    // Connection errors surface through failing commands and ping(); an unhandled 'error'
    // event would crash the process.
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new StoreUnavailableError(`Cannot connect to Redis at ${parsed.host}`, { cause: error });
  }
  return new RedisStore(redis, prefix);
}

type Reply = string[] | null;

class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('Store is closed');
    try {
      return await operation();
    } catch (error) {
      // A refused argument is the caller's bug even while Redis is down: never a 503.
      if (StoreUnavailableError.isInstance(error) || StoreArgumentError.isInstance(error)) throw error;
      if (this.redis.status !== 'ready' || isConnectionError(error) || refusesWrites(error)) {
        throw new StoreUnavailableError(`Redis unavailable: ${errorMessage(error)}`, { cause: error });
      }
      throw error;
    }
  }

  /** Runs a script of redis-scripts.ts with the key prefix as ARGV[1], then `argv`. */
  private script(source: string, argv: ReadonlyArray<string | number>): Promise<unknown> {
    return runScript(this.redis, source, [], [this.prefix, ...argv.map(String)]);
  }

  private scriptWithKey(source: string, key: string, argv: ReadonlyArray<string | number>): Promise<unknown> {
    return runScript(this.redis, source, [key], argv.map(String));
  }

  claimKey(key: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    return this.run(async () => {
      storeArguments.claimKey(key, ttlMs);
      const result = await this.scriptWithKey(CLAIM_KEY, `${this.prefix}claim:${key}`, [now, ttlMs]);
      return result === 1;
    });
  }

  releaseKey(key: string): Promise<void> {
    return this.run(async () => {
      await this.redis.del(`${this.prefix}claim:${key}`);
    });
  }

  admit(admission: Admission, now = Date.now()): Promise<AdmissionResult> {
    const { keys, ttlMs, job } = admission;
    return this.run(async () => {
      const payload = storeArguments.admit(admission);
      const reply = (await this.script(ADMIT, [
        now,
        keys.length,
        ...keys,
        ttlMs,
        job.id,
        job.lane,
        job.kind,
        payload,
      ])) as string[];
      const [status, key] = reply;
      if (status === 'duplicate' && key !== undefined) return { status, key };
      if (status === 'exists' || status === 'enqueued') return { status };
      throw new Error(`unexpected admit reply from Redis: ${JSON.stringify(reply)}`);
    });
  }

  enqueue(job: NewJob, now = Date.now()): Promise<boolean> {
    return this.run(async () => {
      const payload = storeArguments.enqueue(job);
      const result = await this.script(ENQUEUE, [job.id, job.lane, job.kind, payload, now]);
      return result === 1;
    });
  }

  claimNextJob(options: ClaimOptions): Promise<Job | null> {
    const { owner, leaseMs, kinds, now = Date.now() } = options;
    return this.run(async () => {
      storeArguments.claimNextJob(options);
      const reply = (await this.script(CLAIM, [
        owner,
        leaseMs,
        now,
        kinds === undefined ? '*' : kinds.join(','),
        LANE_PAGE_SIZE,
      ])) as Reply;
      return reply ? toJob(reply) : null;
    });
  }

  renewLease(id: string, owner: string, leaseMs: number, now = Date.now()): Promise<boolean> {
    return this.run(async () => {
      storeArguments.renewLease(leaseMs);
      return (await this.script(RENEW, [id, owner, leaseMs, now])) === 1;
    });
  }

  saveCheckpoint(id: string, owner: string, checkpoint: unknown): Promise<boolean> {
    return this.run(async () => {
      const value = storeArguments.saveCheckpoint(checkpoint);
      return (await this.script(CHECKPOINT, [id, owner, value])) === 1;
    });
  }

  completeJob(id: string, owner: string, now = Date.now()): Promise<boolean> {
    return this.run(async () => (await this.script(FINISH, [id, owner, 'done', now, ''])) === 1);
  }

  failJob(id: string, owner: string, options: FailOptions): Promise<boolean> {
    const { error, dead, retryInMs = 0, now = Date.now() } = options;
    return this.run(async () => {
      storeArguments.failJob(options);
      const result = dead
        ? await this.script(FINISH, [id, owner, 'dead', now, error])
        : await this.script(BACK_TO_PENDING, [id, owner, now, now + retryInMs, 0, error]);
      return result === 1;
    });
  }

  releaseJob(id: string, owner: string, now = Date.now()): Promise<boolean> {
    return this.run(async () => (await this.script(BACK_TO_PENDING, [id, owner, now, now, -1, ''])) === 1);
  }

  retryJob(id: string, now = Date.now()): Promise<boolean> {
    return this.run(async () => (await this.script(RETRY_DEAD, [id, now])) === 1);
  }

  getJob(id: string): Promise<Job | null> {
    return this.run(async () => {
      const fields = await this.redis.hgetall(`${this.prefix}job:${id}`);
      return Object.keys(fields).length === 0 ? null : toJobFromRecord(fields);
    });
  }

  listJobs(options: { status?: JobStatus; limit: number }): Promise<Job[]> {
    const { status, limit } = options;
    return this.run(async () => {
      storeArguments.listJobs(options);
      if (limit === 0) return [];
      const index = `${this.prefix}jobs:${status ?? 'all'}`;
      const ids = await this.redis.zrevrange(index, 0, limit - 1);
      if (ids.length === 0) return [];
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(`${this.prefix}job:${id}`);
      const results = settled(await pipeline.exec());
      const jobs: Job[] = [];
      for (const [, fields] of results) {
        const record = fields as Record<string, string>;
        if (Object.keys(record).length > 0) jobs.push(toJobFromRecord(record));
      }
      return jobs;
    });
  }

  countJobs(): Promise<JobCounts> {
    return this.run(async () => {
      const pipeline = this.redis.pipeline();
      for (const status of JOB_STATUSES) pipeline.zcard(`${this.prefix}jobs:${status}`);
      const results = settled(await pipeline.exec());
      const counts: JobCounts = { pending: 0, leased: 0, done: 0, dead: 0 };
      JOB_STATUSES.forEach((status, index) => {
        counts[status] = Number(results[index]?.[1] ?? 0);
      });
      return counts;
    });
  }

  purgeJobs(before: number): Promise<number> {
    return this.run(async () => {
      storeArguments.purge(before);
      let total = 0;
      for (;;) {
        const removed = Number(await this.script(PURGE, [before]));
        total += removed;
        if (removed < PURGE_BATCH) return total;
      }
    });
  }

  appendHistory(conversation: string, messages: readonly HistoryMessage[], maxMessages: number): Promise<void> {
    return this.run(async () => {
      storeArguments.appendHistory(conversation, messages, maxMessages);
      if (messages.length === 0) return;
      const key = `${this.prefix}history:${conversation}`;
      const newest = Math.max(...messages.map((message) => message.at));
      await this.redis
        .multi()
        .rpush(key, ...messages.map((message) => JSON.stringify(message)))
        .ltrim(key, -maxMessages, -1)
        // Conversations by their newest message, so purgeHistory finds idle ones without a scan.
        .zadd(`${this.prefix}history-active`, 'GT', newest, conversation)
        .exec()
        .then(settled);
    });
  }

  readHistory(conversation: string, limit: number): Promise<HistoryMessage[]> {
    return this.run(async () => {
      storeArguments.limit(limit);
      if (limit === 0) return [];
      const items = await this.redis.lrange(`${this.prefix}history:${conversation}`, -limit, -1);
      return items.map((item) => JSON.parse(item) as HistoryMessage);
    });
  }

  clearHistory(conversation: string): Promise<void> {
    return this.run(async () => {
      await this.redis
        .multi()
        .del(`${this.prefix}history:${conversation}`)
        .zrem(`${this.prefix}history-active`, conversation)
        .exec()
        .then(settled);
    });
  }

  purgeHistory(before: number): Promise<number> {
    return this.run(async () => {
      storeArguments.purge(before);
      const index = `${this.prefix}history-active`;
      let total = 0;
      for (;;) {
        const idle = await this.redis.zrangebyscore(index, '-inf', `(${before}`, 'LIMIT', 0, 500);
        if (idle.length === 0) return total;
        const batch = this.redis.multi();
        for (const conversation of idle) batch.del(`${this.prefix}history:${conversation}`).zrem(index, conversation);
        await batch.exec().then(settled);
        total += idle.length;
      }
    });
  }

  clearHistoryWithPrefix(prefix: string): Promise<number> {
    return this.run(async () => {
      storeArguments.clearHistoryWithPrefix(prefix);
      const index = `${this.prefix}history-active`;
      // Every conversation is in the index (appendHistory adds it), so a scan of it finds them all.
      const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, items] = await this.redis.zscan(index, cursor, 'MATCH', match, 'COUNT', 500);
        cursor = next;
        for (let item = 0; item < items.length; item += 2) found.add(items[item] as string);
      } while (cursor !== '0');
      if (found.size === 0) return 0;
      const batch = this.redis.multi();
      for (const conversation of found) batch.del(`${this.prefix}history:${conversation}`).zrem(index, conversation);
      await batch.exec().then(settled);
      return found.size;
    });
  }

  saveChatSettings(entry: ChatSettingsVersion, keepVersions: number): Promise<boolean> {
    return this.run(async () => {
      const settings = storeArguments.saveChatSettings(entry, keepVersions);
      const { chatId, version, changedBy, change, at } = entry;
      // The settings as validated JSON, spliced in so what was checked is what is stored.
      const json = `{"chatId":${JSON.stringify(chatId)},"version":${version},"settings":${settings},"changedBy":${JSON.stringify(changedBy)},"change":${JSON.stringify(change)},"at":${at}}`;
      const saved = await this.script(SAVE_CHAT_SETTINGS, [chatId, version, json, at, keepVersions, appOfKey(chatId)]);
      return saved === 1;
    });
  }

  chatSettingsHistory(chatId: string, limit: number): Promise<ChatSettingsVersion[]> {
    return this.run(async () => {
      storeArguments.limit(limit);
      if (limit === 0) return [];
      const items = await this.redis.zrevrange(`${this.prefix}chat-settings:${chatId}`, 0, limit - 1);
      return items.map((item) => JSON.parse(item) as ChatSettingsVersion);
    });
  }

  listChatSettings(appId: string, limit: number): Promise<ChatSettingsVersion[]> {
    return this.run(async () => {
      storeArguments.listChatSettings(appId, limit);
      const items = (await this.script(LIST_CHAT_SETTINGS, [appId, limit, DEFAULT_APP_ID])) as string[];
      return items.map((item) => JSON.parse(item) as ChatSettingsVersion);
    });
  }

  deleteChatSettings(chatId: string): Promise<void> {
    return this.run(async () => {
      await this.redis
        .multi()
        .del(`${this.prefix}chat-settings:${chatId}`)
        .zrem(`${this.prefix}chat-settings-index:${appOfKey(chatId)}`, chatId)
        // The index of every app's chats, until a listing has moved them into their apps' indexes.
        .zrem(`${this.prefix}chat-settings-index`, chatId)
        .exec()
        .then(settled);
    });
  }

  incrementCounter(key: string, windowMs: number, now = Date.now()): Promise<number> {
    return this.run(async () => {
      storeArguments.incrementCounter(key, windowMs);
      const windowStart = Math.floor(now / windowMs) * windowMs;
      const counterKey = `${this.prefix}counter:${key}:${windowStart}`;
      const results = settled(
        await this.redis
          .multi()
          .incr(counterKey)
          .pexpire(counterKey, windowMs * 2)
          .exec(),
      );
      return Number(results[0]?.[1] ?? 0);
    });
  }

  addToTotal(key: string, amount: number, ttlMs: number, now = Date.now()): Promise<number> {
    return this.run(async () => {
      storeArguments.addToTotal(key, amount, ttlMs);
      const result = await this.scriptWithKey(ADD_TO_TOTAL, `${this.prefix}total:${key}`, [amount, now, ttlMs]);
      return Number(result);
    });
  }

  addToTallies(additions: readonly TallyAddition[], ttlMs: number, now = Date.now()): Promise<void> {
    return this.run(async () => {
      storeArguments.addToTallies(additions, ttlMs);
      if (additions.length === 0) return;
      const argv = additions.flatMap(({ tally, member, amount }) => [tally, member, amount]);
      await this.script(ADD_TO_TALLIES, [now, ttlMs, ...argv]);
    });
  }

  readTally(tally: string, limit: number, now = Date.now()): Promise<TallyEntry[]> {
    return this.run(async () => {
      storeArguments.readTally(tally, limit);
      const flat = (await this.script(READ_TALLY, [tally, now, limit])) as string[];
      const entries: TallyEntry[] = [];
      for (let index = 0; index + 1 < flat.length; index += 2) {
        entries.push({ member: flat[index] ?? '', total: Number(flat[index + 1]) });
      }
      return entries;
    });
  }

  putRecord(collection: string, id: string, value: unknown, maxRecords: number): Promise<void> {
    return this.run(async () => {
      const json = storeArguments.putRecord(collection, id, value, maxRecords);
      await this.script(PUT_RECORD, [collection, id, json, maxRecords]);
    });
  }

  getRecord(collection: string, id: string): Promise<unknown | null> {
    return this.run(async () => {
      const value = await this.redis.hget(`${this.prefix}record:${collection}`, id);
      return value === null ? null : (JSON.parse(value) as unknown);
    });
  }

  listRecords(collection: string, limit: number): Promise<unknown[]> {
    return this.run(async () => {
      storeArguments.limit(limit);
      if (limit === 0) return [];
      const ids = await this.redis.zrevrange(`${this.prefix}records:${collection}`, 0, limit - 1);
      if (ids.length === 0) return [];
      const values = await this.redis.hmget(`${this.prefix}record:${collection}`, ...ids);
      return values.filter((value): value is string => value !== null).map((value) => JSON.parse(value) as unknown);
    });
  }

  addSchedule(schedule: NewSchedule, maxPerScope: number, now = Date.now()): Promise<AddScheduleResult> {
    return this.run(async () => {
      const payload = storeArguments.addSchedule(schedule, maxPerScope);
      const { id, scope, nextRunAt } = schedule;
      return (await this.script(ADD_SCHEDULE, [id, scope, nextRunAt, payload, maxPerScope, now])) as AddScheduleResult;
    });
  }

  getSchedule(id: string): Promise<Schedule | null> {
    return this.run(async () => (await this.readSchedules([id]))[0] ?? null);
  }

  listSchedules(scope: string, limit: number): Promise<Schedule[]> {
    return this.run(async () => {
      storeArguments.limit(limit);
      if (limit === 0) return [];
      return this.readSchedules(
        await this.redis.zrange(`${this.prefix}schedules:scope:${scope}`, '0', String(limit - 1)),
      );
    });
  }

  cancelSchedule(scope: string, id: string): Promise<boolean> {
    return this.run(async () => (await this.script(CANCEL_SCHEDULE, [scope, id])) === 1);
  }

  claimDueSchedule({ owner, leaseMs, now = Date.now() }: ClaimScheduleOptions): Promise<Schedule | null> {
    return this.run(async () => {
      storeArguments.claimDueSchedule(owner, leaseMs);
      const id = await this.script(CLAIM_SCHEDULE, [owner, leaseMs, now]);
      return typeof id === 'string' ? ((await this.readSchedules([id]))[0] ?? null) : null;
    });
  }

  finishScheduleRun(id: string, owner: string, options: FinishScheduleRunOptions): Promise<boolean> {
    const { run, nextRunAt, maxRuns, now = Date.now() } = options;
    return this.run(async () => {
      const runJson = storeArguments.finishScheduleRun(run, nextRunAt, maxRuns);
      const next = nextRunAt === null ? '' : nextRunAt;
      return (await this.script(FINISH_SCHEDULE_RUN, [id, owner, runJson, next, maxRuns, now])) === 1;
    });
  }

  /** The schedules of `ids` that exist, in that order, each with its runs. */
  private async readSchedules(ids: readonly string[]): Promise<Schedule[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      pipeline.hgetall(`${this.prefix}schedule:${id}`).lrange(`${this.prefix}schedule-runs:${id}`, 0, -1);
    }
    const results = settled(await pipeline.exec());
    const schedules: Schedule[] = [];
    for (let index = 0; index + 1 < results.length; index += 2) {
      const record = results[index]?.[1] as Record<string, string>;
      const runs = results[index + 1]?.[1] as string[];
      if (Object.keys(record).length > 0) schedules.push(toSchedule(record, runs));
    }
    return schedules;
  }

  ping(): Promise<void> {
    return this.run(async () => {
      await this.redis.ping();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

/**
 * The replies of a pipeline or MULTI, or the first error among them. ioredis resolves `exec()`
 * with per-command errors (and null for an aborted MULTI) instead of rejecting, e.g. while the
 * connection is down: read unchecked, an outage looked like an empty queue (zero counts).
 */
function settled(results: Array<[Error | null, unknown]> | null): Array<[Error | null, unknown]> {
  if (results === null) throw new Error('Redis transaction aborted');
  for (const [error] of results) if (error) throw error;
  return results;
}

/** Redis answers but will not write: out of memory (maxmemory), its disk failing (MISCONF), a replica. */
function refusesWrites(error: unknown): boolean {
  if (/^(OOM|MISCONF|READONLY) /.test(errorMessage(error))) return true;
  // A MULTI whose commands were refused ends as EXECABORT, carrying their errors.
  const previous = (error as { previousErrors?: unknown } | null)?.previousErrors;
  return Array.isArray(previous) && previous.some(refusesWrites);
}

function isConnectionError(error: unknown): boolean {
  const message = errorMessage(error);
  return /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out|enableOfflineQueue|Stream isn't writeable/i.test(
    message,
  );
}

function toJob(reply: string[]): Job {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < reply.length; index += 2) record[reply[index] as string] = reply[index + 1] as string;
  return toJobFromRecord(record);
}

function toJobFromRecord(record: Record<string, string>): Job {
  const optionalNumber = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));
  return {
    id: record.id ?? '',
    lane: record.lane ?? '',
    kind: record.kind ?? '',
    payload: JSON.parse(record.payload ?? 'null') as unknown,
    status: (record.status ?? 'pending') as JobStatus,
    attempts: Number(record.attempts ?? 0),
    owner: record.owner === undefined || record.owner === '' ? null : record.owner,
    leaseUntil: optionalNumber(record.leaseUntil),
    availableAt: Number(record.availableAt ?? 0),
    checkpoint: JSON.parse(record.checkpoint ?? 'null') as unknown,
    lastError: record.lastError === undefined || record.lastError === '' ? null : record.lastError,
    createdAt: Number(record.createdAt ?? 0),
    updatedAt: Number(record.updatedAt ?? 0),
  };
}

function toSchedule(record: Record<string, string>, runs: readonly string[]): Schedule {
  return {
    id: record.id ?? '',
    scope: record.scope ?? '',
    nextRunAt: Number(record.nextRunAt ?? 0),
    payload: JSON.parse(record.payload ?? 'null') as unknown,
    owner: record.owner === undefined || record.owner === '' ? null : record.owner,
    leaseUntil: record.leaseUntil === undefined || record.leaseUntil === '' ? null : Number(record.leaseUntil),
    runs: runs.map((run) => JSON.parse(run) as ScheduleRun),
    createdAt: Number(record.createdAt ?? 0),
    updatedAt: Number(record.updatedAt ?? 0),
  };
}

import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
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
 * replicas), not Redis Cluster; docs/store.md says so.
 */

/** Lanes the claim script reads per page while it looks for a claimable head. */
const LANE_PAGE_SIZE = 500;

/** Shared by ENQUEUE and ADMIT: adds a pending job at the back of its lane; 0 when the id exists. */
const ENQUEUE_JOB = `
local function enqueueJob(p, id, lane, kind, payload, now)
  local jobKey = p .. 'job:' .. id
  if redis.call('EXISTS', jobKey) == 1 then return 0 end
  local seq = redis.call('INCR', p .. 'seq')
  redis.call('HSET', jobKey, 'id', id, 'lane', lane, 'kind', kind, 'payload', payload,
    'status', 'pending', 'attempts', 0, 'owner', '', 'leaseUntil', '', 'availableAt', now,
    'checkpoint', 'null', 'lastError', '', 'createdAt', now, 'updatedAt', now, 'seq', seq)
  local laneKey = p .. 'lane:' .. lane
  redis.call('RPUSH', laneKey, id)
  if redis.call('LLEN', laneKey) == 1 then redis.call('ZADD', p .. 'lanes', seq, lane) end
  redis.call('ZADD', p .. 'jobs:pending', seq, id)
  redis.call('ZADD', p .. 'jobs:all', seq, id)
  return 1
end
`;

/** Shared by CLAIM_KEY and ADMIT: the claim's value is its expiry, so a lapsed one is taken over. */
const CLAIM_DEDUPE_KEY = `
local function claimDedupeKey(key, now, ttlMs)
  local current = redis.call('GET', key)
  if current and tonumber(current) > now then return 0 end
  redis.call('SET', key, now + ttlMs, 'PX', ttlMs)
  return 1
end
`;

const ENQUEUE = `${ENQUEUE_JOB}
return enqueueJob(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

const CLAIM = `
local p = ARGV[1]
local owner = ARGV[2]
local leaseMs = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local kindSet = nil
if ARGV[5] ~= '*' then
  kindSet = {}
  for kind in string.gmatch(ARGV[5], '[^,]+') do kindSet[kind] = true end
end
-- Lanes oldest head first, a page at a time (scores are unique head sequence numbers, so the
-- cursor is exact): a thousand blocked lanes must not hide a claimable one behind them.
local page = tonumber(ARGV[6])
local cursor = '-inf'
while true do
  local lanes = redis.call('ZRANGEBYSCORE', p .. 'lanes', cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, page)
  for index = 1, #lanes, 2 do
    local lane = lanes[index]
    local id = redis.call('LINDEX', p .. 'lane:' .. lane, 0)
    if not id then
      redis.call('ZREM', p .. 'lanes', lane)
    else
      local jobKey = p .. 'job:' .. id
      local f = redis.call('HMGET', jobKey, 'kind', 'status', 'availableAt', 'leaseUntil', 'seq')
      if kindSet == nil or kindSet[f[1]] then
        local claimable = (f[2] == 'pending' and tonumber(f[3]) <= now)
          or (f[2] == 'leased' and tonumber(f[4]) < now)
        if claimable then
          redis.call('ZREM', p .. 'jobs:' .. f[2], id)
          redis.call('ZADD', p .. 'jobs:leased', f[5], id)
          redis.call('HINCRBY', jobKey, 'attempts', 1)
          redis.call('HSET', jobKey, 'status', 'leased', 'owner', owner, 'leaseUntil', now + leaseMs, 'updatedAt', now)
          return redis.call('HGETALL', jobKey)
        end
      end
    end
  end
  if #lanes < page * 2 then break end
  cursor = '(' .. lanes[#lanes]
end
return false
`;

/** Shared by scripts that act on a job only while `owner` still holds its lease. */
const HELD = `
local p = ARGV[1]
local id = ARGV[2]
local jobKey = p .. 'job:' .. id
local f = redis.call('HMGET', jobKey, 'status', 'owner', 'seq', 'lane')
if f[1] ~= 'leased' or f[2] ~= ARGV[3] then return 0 end
`;

/** Removes a finished job from its lane and re-ranks the lane by its new head. */
const LEAVE_LANE = `
local function leaveLane(p, lane, id)
  local laneKey = p .. 'lane:' .. lane
  redis.call('LREM', laneKey, 1, id)
  local head = redis.call('LINDEX', laneKey, 0)
  if head then
    redis.call('ZADD', p .. 'lanes', redis.call('HGET', p .. 'job:' .. head, 'seq'), lane)
  else
    redis.call('ZREM', p .. 'lanes', lane)
  end
end
`;

const RENEW = `${HELD}
redis.call('HSET', jobKey, 'leaseUntil', tonumber(ARGV[5]) + tonumber(ARGV[4]), 'updatedAt', ARGV[5])
return 1
`;

const CHECKPOINT = `${HELD}
redis.call('HSET', jobKey, 'checkpoint', ARGV[4])
return 1
`;

/** ARGV[4] = final status ('done' | 'dead'), ARGV[5] = now, ARGV[6] = error or ''. */
const FINISH = `${LEAVE_LANE}${HELD}
redis.call('ZREM', p .. 'jobs:leased', id)
redis.call('ZADD', p .. 'jobs:' .. ARGV[4], f[3], id)
redis.call('ZADD', p .. 'jobs:finished', ARGV[5], id)
redis.call('HSET', jobKey, 'status', ARGV[4], 'owner', '', 'leaseUntil', '', 'updatedAt', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', jobKey, 'lastError', ARGV[6]) end
leaveLane(p, f[4], id)
return 1
`;

/** ARGV[4] = now, ARGV[5] = availableAt, ARGV[6] = attempts delta, ARGV[7] = error or ''. */
const BACK_TO_PENDING = `${HELD}
redis.call('ZREM', p .. 'jobs:leased', id)
redis.call('ZADD', p .. 'jobs:pending', f[3], id)
redis.call('HINCRBY', jobKey, 'attempts', tonumber(ARGV[6]))
redis.call('HSET', jobKey, 'status', 'pending', 'owner', '', 'leaseUntil', '', 'availableAt', ARGV[5], 'updatedAt', ARGV[4])
if ARGV[7] ~= '' then redis.call('HSET', jobKey, 'lastError', ARGV[7]) end
return 1
`;

const RETRY_DEAD = `
local p = ARGV[1]
local id = ARGV[2]
local now = ARGV[3]
local jobKey = p .. 'job:' .. id
local f = redis.call('HMGET', jobKey, 'status', 'seq', 'lane')
if f[1] ~= 'dead' then return 0 end
local seq = tonumber(f[2])
local laneKey = p .. 'lane:' .. f[3]
-- To the back of its lane, as SQLite does: whatever runs in the lane now keeps it, and the
-- retried job cannot overtake messages that were waiting behind it.
redis.call('RPUSH', laneKey, id)
local head = redis.call('LINDEX', laneKey, 0)
redis.call('ZADD', p .. 'lanes', redis.call('HGET', p .. 'job:' .. head, 'seq'), f[3])
redis.call('ZREM', p .. 'jobs:dead', id)
redis.call('ZREM', p .. 'jobs:finished', id)
redis.call('ZADD', p .. 'jobs:pending', seq, id)
redis.call('HSET', jobKey, 'status', 'pending', 'attempts', 0, 'owner', '', 'leaseUntil', '', 'availableAt', now, 'updatedAt', now)
return 1
`;

const PURGE = `
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'jobs:finished', '-inf', '(' .. ARGV[2], 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do
  redis.call('DEL', p .. 'job:' .. id)
  redis.call('ZREM', p .. 'jobs:finished', id)
  redis.call('ZREM', p .. 'jobs:done', id)
  redis.call('ZREM', p .. 'jobs:dead', id)
  redis.call('ZREM', p .. 'jobs:all', id)
end
return #ids
`;

/**
 * Claims ARGV[4..3+n] (n = ARGV[3]) in order, then enqueues (ENQUEUE's arguments follow), in one
 * script: one round trip per delivery, and nothing can run between the claims and the enqueue.
 * Returns {'duplicate', key}, {'exists'} or {'enqueued'}.
 */
const ADMIT = `${CLAIM_DEDUPE_KEY}${ENQUEUE_JOB}
local p = ARGV[1]
local now = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local ttlMs = tonumber(ARGV[4 + count])
for index = 1, count do
  local key = ARGV[3 + index]
  if claimDedupeKey(p .. 'claim:' .. key, now, ttlMs) == 0 then return {'duplicate', key} end
end
if enqueueJob(p, ARGV[5 + count], ARGV[6 + count], ARGV[7 + count], ARGV[8 + count], now) == 0 then
  return {'exists'}
end
return {'enqueued'}
`;

const CLAIM_KEY = `${CLAIM_DEDUPE_KEY}
return claimDedupeKey(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
`;

const PUT_RECORD = `
local p = ARGV[1]
local collection = ARGV[2]
local seq = redis.call('INCR', p .. 'recordseq')
redis.call('HSET', p .. 'record:' .. collection, ARGV[3], ARGV[4])
redis.call('ZADD', p .. 'records:' .. collection, seq, ARGV[3])
local excess = redis.call('ZCARD', p .. 'records:' .. collection) - tonumber(ARGV[5])
if excess > 0 then
  local old = redis.call('ZRANGE', p .. 'records:' .. collection, 0, excess - 1)
  for _, id in ipairs(old) do
    redis.call('HDEL', p .. 'record:' .. collection, id)
    redis.call('ZREM', p .. 'records:' .. collection, id)
  end
end
return 1
`;

const JOB_STATUSES: readonly JobStatus[] = ['pending', 'leased', 'done', 'dead'];

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
    // Reconnect forever with a capped back-off; readiness reports the outage meanwhile.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
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
      if (StoreUnavailableError.isInstance(error)) throw error;
      if (this.redis.status !== 'ready' || isConnectionError(error) || refusesWrites(error)) {
        throw new StoreUnavailableError(`Redis unavailable: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  private script(source: string, argv: ReadonlyArray<string | number>): Promise<unknown> {
    return this.evaluate(source, [], [this.prefix, ...argv.map(String)]);
  }

  private scriptWithKey(source: string, key: string, argv: ReadonlyArray<string | number>): Promise<unknown> {
    return this.evaluate(source, [key], argv.map(String));
  }

  /**
   * EVALSHA, so a call sends the script's hash instead of its source (each is up to 2 KB, on
   * every ack and claim). Redis forgets scripts on restart or SCRIPT FLUSH: NOSCRIPT is answered
   * with one EVAL, which loads it again.
   */
  private async evaluate(source: string, keys: readonly string[], argv: readonly string[]): Promise<unknown> {
    const sha = scriptHash(source);
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...argv);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(source, keys.length, ...keys, ...argv);
    }
  }

  claimKey(key: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    return this.run(async () => {
      const result = await this.scriptWithKey(CLAIM_KEY, `${this.prefix}claim:${key}`, [now, ttlMs]);
      return result === 1;
    });
  }

  releaseKey(key: string): Promise<void> {
    return this.run(async () => {
      await this.redis.del(`${this.prefix}claim:${key}`);
    });
  }

  admit({ keys, ttlMs, job }: Admission, now = Date.now()): Promise<AdmissionResult> {
    return this.run(async () => {
      const reply = (await this.script(ADMIT, [
        now,
        keys.length,
        ...keys,
        ttlMs,
        job.id,
        job.lane,
        job.kind,
        JSON.stringify(job.payload ?? null),
      ])) as string[];
      const [status, key] = reply;
      if (status === 'duplicate' && key !== undefined) return { status, key };
      if (status === 'exists' || status === 'enqueued') return { status };
      throw new Error(`unexpected admit reply from Redis: ${JSON.stringify(reply)}`);
    });
  }

  enqueue(job: NewJob, now = Date.now()): Promise<boolean> {
    return this.run(async () => {
      const result = await this.script(ENQUEUE, [job.id, job.lane, job.kind, JSON.stringify(job.payload ?? null), now]);
      return result === 1;
    });
  }

  claimNextJob({ owner, leaseMs, kinds, now = Date.now() }: ClaimOptions): Promise<Job | null> {
    return this.run(async () => {
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
    return this.run(async () => (await this.script(RENEW, [id, owner, leaseMs, now])) === 1);
  }

  saveCheckpoint(id: string, owner: string, checkpoint: unknown): Promise<boolean> {
    return this.run(async () => (await this.script(CHECKPOINT, [id, owner, JSON.stringify(checkpoint ?? null)])) === 1);
  }

  completeJob(id: string, owner: string, now = Date.now()): Promise<boolean> {
    return this.run(async () => (await this.script(FINISH, [id, owner, 'done', now, ''])) === 1);
  }

  failJob(id: string, owner: string, { error, dead, retryInMs = 0, now = Date.now() }: FailOptions): Promise<boolean> {
    return this.run(async () => {
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

  listJobs({ status, limit }: { status?: JobStatus; limit: number }): Promise<Job[]> {
    return this.run(async () => {
      if (limit <= 0) return [];
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
      let total = 0;
      // Batches of 1000 keep each script short so other instances are not blocked.
      for (;;) {
        const removed = Number(await this.script(PURGE, [before]));
        total += removed;
        if (removed < 1000) return total;
      }
    });
  }

  appendHistory(conversation: string, messages: readonly HistoryMessage[], maxMessages: number): Promise<void> {
    return this.run(async () => {
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
      if (limit <= 0) return [];
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

  incrementCounter(key: string, windowMs: number, now = Date.now()): Promise<number> {
    return this.run(async () => {
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

  putRecord(collection: string, id: string, value: unknown, maxRecords: number): Promise<void> {
    return this.run(async () => {
      await this.script(PUT_RECORD, [collection, id, JSON.stringify(value ?? null), maxRecords]);
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
      if (limit <= 0) return [];
      const ids = await this.redis.zrevrange(`${this.prefix}records:${collection}`, 0, limit - 1);
      if (ids.length === 0) return [];
      const values = await this.redis.hmget(`${this.prefix}record:${collection}`, ...ids);
      return values.filter((value): value is string => value !== null).map((value) => JSON.parse(value) as unknown);
    });
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

const scriptHashes = new Map<string, string>();

/** The SHA-1 Redis names a script by; the sources are module constants, so the map stays small. */
function scriptHash(source: string): string {
  let sha = scriptHashes.get(source);
  if (sha === undefined) {
    sha = createHash('sha1').update(source).digest('hex');
    scriptHashes.set(source, sha);
  }
  return sha;
}

/** Redis answers but will not write: out of memory (maxmemory), its disk failing (MISCONF), a replica. */
function refusesWrites(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  if (/^(OOM|MISCONF|READONLY) /.test(message)) return true;
  // A MULTI whose commands were refused ends as EXECABORT, carrying their errors.
  const previous = (error as { previousErrors?: unknown } | null)?.previousErrors;
  return Array.isArray(previous) && previous.some(refusesWrites);
}

function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
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

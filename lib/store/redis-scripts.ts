import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * The Lua scripts of the Redis store (redis-store.ts), and how they are sent. Every script takes
 * the key prefix as ARGV[1] (CLAIM_KEY takes its one key as KEYS[1]) and builds its keys from it,
 * so each runs atomically on one Redis; redis-store.ts describes the data layout.
 */

/** Finished jobs one PURGE call deletes at most: short scripts, so other instances are not blocked. */
export const PURGE_BATCH = 1_000;

/** Lanes the claim script reads per page while it looks for a claimable head. */
export const LANE_PAGE_SIZE = 500;

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

/** ARGV[2..6] = id, lane, kind, payload JSON, now. Returns 1, or 0 when the id is already a job. */
export const ENQUEUE = `${ENQUEUE_JOB}
return enqueueJob(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

/**
 * ARGV[2..6] = owner, leaseMs, now, kinds joined by ',' or '*' for all, LANE_PAGE_SIZE. Leases the
 * oldest claimable lane head and returns its hash fields (HGETALL), or false.
 */
export const CLAIM = `
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

/** ARGV[2..5] = id, owner, leaseMs, now. Returns 1, or 0 when `owner` no longer holds the job. */
export const RENEW = `${HELD}
redis.call('HSET', jobKey, 'leaseUntil', tonumber(ARGV[5]) + tonumber(ARGV[4]), 'updatedAt', ARGV[5])
return 1
`;

/** ARGV[2..4] = id, owner, checkpoint JSON. Returns 1, or 0 when `owner` no longer holds the job. */
export const CHECKPOINT = `${HELD}
redis.call('HSET', jobKey, 'checkpoint', ARGV[4])
return 1
`;

/** ARGV[2..6] = id, owner, final status ('done' | 'dead'), now, error or ''. */
export const FINISH = `${LEAVE_LANE}${HELD}
redis.call('ZREM', p .. 'jobs:leased', id)
redis.call('ZADD', p .. 'jobs:' .. ARGV[4], f[3], id)
redis.call('ZADD', p .. 'jobs:finished', ARGV[5], id)
redis.call('HSET', jobKey, 'status', ARGV[4], 'owner', '', 'leaseUntil', '', 'updatedAt', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', jobKey, 'lastError', ARGV[6]) end
leaveLane(p, f[4], id)
return 1
`;

/** ARGV[2..7] = id, owner, now, availableAt, attempts delta, error or ''. */
export const BACK_TO_PENDING = `${HELD}
redis.call('ZREM', p .. 'jobs:leased', id)
redis.call('ZADD', p .. 'jobs:pending', f[3], id)
redis.call('HINCRBY', jobKey, 'attempts', tonumber(ARGV[6]))
redis.call('HSET', jobKey, 'status', 'pending', 'owner', '', 'leaseUntil', '', 'availableAt', ARGV[5], 'updatedAt', ARGV[4])
if ARGV[7] ~= '' then redis.call('HSET', jobKey, 'lastError', ARGV[7]) end
return 1
`;

/** ARGV[2..3] = id, now. A dead job back to pending, attempts reset; 0 when it is not dead. */
export const RETRY_DEAD = `
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

/** ARGV[2] = before. Deletes up to PURGE_BATCH jobs finished before it; returns how many. */
export const PURGE = `
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'jobs:finished', '-inf', '(' .. ARGV[2], 'LIMIT', 0, ${PURGE_BATCH})
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
export const ADMIT = `${CLAIM_DEDUPE_KEY}${ENQUEUE_JOB}
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

/** KEYS[1] = the prefixed claim key; ARGV = now, ttlMs. Returns 1 when claimed, 0 when held. */
export const CLAIM_KEY = `${CLAIM_DEDUPE_KEY}
return claimDedupeKey(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
`;

/** ARGV[2..5] = collection, id, value JSON, maxRecords: upserts, then drops the oldest writes past the cap. */
export const PUT_RECORD = `
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

/*
 * Schedules: a hash `schedule:<id>`, its runs newest first in the list `schedule-runs:<id>`, the
 * zset `schedules:due` scored by next run while free and by lease end while held (so a schedule
 * whose holder died comes due again), and `schedules:scope:<scope>` scored by next run.
 */

/** ARGV[2..7] = id, scope, nextRunAt, payload JSON, maxPerScope, now. Returns 'added', 'exists' or 'full'. */
export const ADD_SCHEDULE = `
local p = ARGV[1]
local key = p .. 'schedule:' .. ARGV[2]
if redis.call('EXISTS', key) == 1 then return 'exists' end
local scopeKey = p .. 'schedules:scope:' .. ARGV[3]
if redis.call('ZCARD', scopeKey) >= tonumber(ARGV[6]) then return 'full' end
redis.call('HSET', key, 'id', ARGV[2], 'scope', ARGV[3], 'nextRunAt', ARGV[4], 'payload', ARGV[5],
  'owner', '', 'leaseUntil', '', 'createdAt', ARGV[7], 'updatedAt', ARGV[7])
redis.call('ZADD', p .. 'schedules:due', ARGV[4], ARGV[2])
redis.call('ZADD', scopeKey, ARGV[4], ARGV[2])
return 'added'
`;

/** ARGV[2..3] = scope, id. Returns 1 when deleted, 0 when the scope has no such schedule. */
export const CANCEL_SCHEDULE = `
local p = ARGV[1]
local key = p .. 'schedule:' .. ARGV[3]
if redis.call('HGET', key, 'scope') ~= ARGV[2] then return 0 end
redis.call('DEL', key, p .. 'schedule-runs:' .. ARGV[3])
redis.call('ZREM', p .. 'schedules:due', ARGV[3])
redis.call('ZREM', p .. 'schedules:scope:' .. ARGV[2], ARGV[3])
return 1
`;

/** ARGV[2..4] = owner, leaseMs, now. Leases the schedule due soonest; returns its id, or false. */
export const CLAIM_SCHEDULE = `
local p = ARGV[1]
local now = tonumber(ARGV[4])
-- A due entry whose schedule is gone (never left by these scripts, but a hand-edited Redis could)
-- is dropped rather than turned into a half-written hash; a few are skipped per call at most.
for _ = 1, 10 do
  local due = redis.call('ZRANGEBYSCORE', p .. 'schedules:due', '-inf', now, 'LIMIT', 0, 1)
  local id = due[1]
  if not id then return false end
  local key = p .. 'schedule:' .. id
  if redis.call('EXISTS', key) == 1 then
    local leaseUntil = now + tonumber(ARGV[3])
    redis.call('HSET', key, 'owner', ARGV[2], 'leaseUntil', leaseUntil, 'updatedAt', now)
    redis.call('ZADD', p .. 'schedules:due', leaseUntil, id)
    return id
  end
  redis.call('ZREM', p .. 'schedules:due', id)
end
return false
`;

/**
 * ARGV[2..7] = id, owner, run JSON, nextRunAt or '' (delete), maxRuns, now. Returns 1, or 0 when
 * `owner` does not hold the schedule (lease lost, cancelled).
 */
export const FINISH_SCHEDULE_RUN = `
local p = ARGV[1]
local id = ARGV[2]
local key = p .. 'schedule:' .. id
local f = redis.call('HMGET', key, 'owner', 'scope')
if not f[1] or f[1] ~= ARGV[3] then return 0 end
local runsKey = p .. 'schedule-runs:' .. id
if ARGV[5] == '' then
  redis.call('DEL', key, runsKey)
  redis.call('ZREM', p .. 'schedules:due', id)
  redis.call('ZREM', p .. 'schedules:scope:' .. f[2], id)
  return 1
end
redis.call('LPUSH', runsKey, ARGV[4])
redis.call('LTRIM', runsKey, 0, tonumber(ARGV[6]) - 1)
redis.call('HSET', key, 'nextRunAt', ARGV[5], 'owner', '', 'leaseUntil', '', 'updatedAt', ARGV[7])
redis.call('ZADD', p .. 'schedules:due', ARGV[5], id)
redis.call('ZADD', p .. 'schedules:scope:' .. f[2], ARGV[5], id)
return 1
`;

/**
 * Runs a script by EVALSHA, so a call sends the script's hash instead of its source (each is up
 * to 2 KB, on every ack and claim). Redis forgets scripts on restart or SCRIPT FLUSH: NOSCRIPT is
 * answered with one EVAL, which loads it again.
 *
 * @example
 * const added = await runScript(redis, ENQUEUE, [], [prefix, id, lane, kind, payload, String(now)]);
 */
export async function runScript(
  redis: Redis,
  source: string,
  keys: readonly string[],
  argv: readonly string[],
): Promise<unknown> {
  const sha = scriptHash(source);
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...argv);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(source, keys.length, ...keys, ...argv);
  }
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

/**
 * KEYS[1] = the total's hash; ARGV = amount, now, ttlMs. The hash keeps its expiry beside the
 * total, so a caller's `now` decides (as in every other script) and Redis's own expiry only
 * cleans up. Returns the new total.
 */
export const ADD_TO_TOTAL = `
local now = tonumber(ARGV[2])
local expiresAt = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if not expiresAt or expiresAt <= now then
  redis.call('HSET', KEYS[1], 'total', ARGV[1], 'expiresAt', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return tonumber(ARGV[1])
end
return redis.call('HINCRBY', KEYS[1], 'total', ARGV[1])
`;

/**
 * Adds to members of tallies: a sorted set of totals per tally and one of each member's expiry
 * (its first addition + ttl); an expired member starts again from the amount.
 * ARGV: prefix, now, ttl, then tally, member, amount for each addition.
 */
export const ADD_TO_TALLIES = `
local p = ARGV[1]
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
for i = 4, #ARGV, 3 do
  local totals = p .. 'tally:' .. ARGV[i]
  local expiries = p .. 'tally-expiry:' .. ARGV[i]
  local member = ARGV[i + 1]
  local expiresAt = tonumber(redis.call('ZSCORE', expiries, member))
  if not expiresAt or expiresAt <= now then
    redis.call('ZADD', totals, ARGV[i + 2], member)
    redis.call('ZADD', expiries, now + ttl, member)
  else
    redis.call('ZINCRBY', totals, ARGV[i + 2], member)
  end
  -- Every member expires by now + ttl, so the sets may go then.
  redis.call('PEXPIRE', totals, ttl)
  redis.call('PEXPIRE', expiries, ttl)
end
return 1
`;

/**
 * A tally's members, biggest first, after dropping (up to 1000) expired ones.
 * ARGV: prefix, tally, now, limit. Returns member, total, member, total…
 */
export const READ_TALLY = `
local totals = ARGV[1] .. 'tally:' .. ARGV[2]
local expiries = ARGV[1] .. 'tally-expiry:' .. ARGV[2]
local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', ARGV[3], 'LIMIT', 0, 1000)
for _, member in ipairs(expired) do
  redis.call('ZREM', totals, member)
  redis.call('ZREM', expiries, member)
end
local limit = tonumber(ARGV[4])
if limit == 0 then return {} end
return redis.call('ZREVRANGE', totals, 0, limit - 1, 'WITHSCORES')
`;

/**
 * Saves one version of a chat's settings if it is exactly one more than the newest stored (0
 * when none), keeps the newest ARGV[6] versions and indexes the chat by the change's time in its
 * app's index. ARGV: prefix, chatId, version, entry JSON, at, keep, app id of the chat. Returns 1
 * when saved, 0 on a conflict.
 */
export const SAVE_CHAT_SETTINGS = `
local p = ARGV[1]
local key = p .. 'chat-settings:' .. ARGV[2]
local version = tonumber(ARGV[3])
local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
local current = 0
if newest[2] then current = tonumber(newest[2]) end
if current ~= version - 1 then return 0 end
redis.call('ZADD', key, version, ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', version - tonumber(ARGV[6]))
redis.call('ZADD', p .. 'chat-settings-index:' .. ARGV[7], ARGV[5], ARGV[2])
return 1
`;

/**
 * The newest version of each chat of one app, most recently changed first: the app's index
 * (`chat-settings-index:<app>`, chats scored by the time of their last change) read from the
 * newest, so the limit applies to this app's chats only. A chat in the index whose settings are
 * gone (deleted by an instance that did not know the app's index) is dropped from it.
 *
 * Before there was an index per app, every app's chats were in one (`chat-settings-index`); the
 * first listing moves them into their apps' indexes, keeping the newer time of a chat already
 * moved. An instance still writing the old index meanwhile (a rolling upgrade) has its chats moved
 * at the next listing.
 * ARGV: prefix, app id, limit, the default app's id (for keys without an app prefix).
 */
export const LIST_CHAT_SETTINGS = `
local p = ARGV[1]
local shared = p .. 'chat-settings-index'
if redis.call('EXISTS', shared) == 1 then
  local entries = redis.call('ZRANGE', shared, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local chat, at = entries[i], tonumber(entries[i + 1])
    local app = string.match(chat, '^app:([^:]*):') or ARGV[4]
    local target = p .. 'chat-settings-index:' .. app
    local moved = redis.call('ZSCORE', target, chat)
    if not moved or tonumber(moved) < at then redis.call('ZADD', target, at, chat) end
  end
  redis.call('DEL', shared)
end
local index = p .. 'chat-settings-index:' .. ARGV[2]
local limit = tonumber(ARGV[3])
local found = {}
if limit == 0 then return found end
for _, chat in ipairs(redis.call('ZREVRANGE', index, 0, limit - 1)) do
  local newest = redis.call('ZRANGE', p .. 'chat-settings:' .. chat, -1, -1)
  if newest[1] then found[#found + 1] = newest[1] else redis.call('ZREM', index, chat) end
end
return found
`;

/**
 * The Lua scripts of the Redis session state store. Each runs atomically in Redis, so replicas never race on a
 * session: ids and sequence numbers are allocated by HINCRBY, the replay log is trimmed to its limits in the same
 * step that appends, and nothing recreates the keys of a session that ended (every write checks it exists).
 *
 * Keys of one session: the hash `s:<id>` (the state as JSON, counters, running streams, kept counts, the
 * standalone stream's holder, subscriptions) and the list `s:<id>:log` (the replay log). Both expire with the
 * idle timeout, refreshed on every activity; the sorted sets of all sessions and of each owner's carry the same
 * expiry as score, from Redis's own clock (replicas' clocks may differ). The hash `s:<id>:index` names the shared
 * keys that hold the session (its owner's quota set, the subscriber set of each URI it subscribed to) and outlives
 * the session by the sweep margin: a session that expired has lost its hash, and the sweeper that ends it reads
 * there what to remove it from. The subscriber sets expire the same margin after their last subscriber's activity.
 */

import type { RedisScript } from '../redis/redis-scripts.js'

/** Shared by the scripts below: now in ms by Redis's clock, and the refresh of a session's expiry. */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The set of all sessions outlives its last member by a minute, long enough for the sweepers to end it (and tell
-- every replica); then it expires: an idle cluster leaves no key behind.
local SWEEP_MARGIN_MS = 60000
local function index_of(hash)
  return hash .. ':index'
end
local function refresh(hash, log, sessions, id, ttl)
  redis.call('PEXPIRE', hash, ttl)
  redis.call('PEXPIRE', log, ttl)
  redis.call('ZADD', sessions, 'XX', now_ms() + ttl, id)
  redis.call('PEXPIRE', sessions, ttl + SWEEP_MARGIN_MS)
  local index = redis.call('HGETALL', index_of(hash))
  for i = 1, #index, 2 do
    if string.sub(index[i], 1, 4) == 'sub:' then redis.call('PEXPIRE', index[i + 1], ttl + SWEEP_MARGIN_MS) end
  end
  redis.call('PEXPIRE', index_of(hash), ttl + SWEEP_MARGIN_MS)
end
-- Deletes a session and removes it from every shared key its index names; 1 when anything of it was still there.
local function end_session(hash, log, sessions, quota, id)
  local removed = redis.call('ZREM', sessions, id)
  if quota ~= '' then removed = removed + redis.call('ZREM', quota, id) end
  local index = redis.call('HGETALL', index_of(hash))
  for i = 1, #index, 2 do
    if index[i] == 'quota' then removed = removed + redis.call('ZREM', index[i + 1], id) end
    if string.sub(index[i], 1, 4) == 'sub:' then removed = removed + redis.call('SREM', index[i + 1], id) end
  end
  if redis.call('DEL', hash, log, index_of(hash)) > 0 or removed > 0 then return 1 end
  return 0
end
`

function script (keys: number, body: string): RedisScript {
  return { keys, lua: PRELUDE + body }
}

/** KEYS: hash, log, sessions, quota set. ARGV: id, state JSON, ttl, maxSessions. → 1 created, 0 full. */
export const CREATE = script(4, `
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'seq', 0, 'streams', 0)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl + SWEEP_MARGIN_MS)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[4], ttl)
redis.call('HSET', index_of(KEYS[1]), 'quota', KEYS[4])
redis.call('PEXPIRE', index_of(KEYS[1]), ttl + SWEEP_MARGIN_MS)
return 1
`)

/** KEYS: hash, log, sessions. ARGV: id, ttl, quota-set key prefix. → the state JSON, or nil. Counts as activity. */
export const LOAD = script(3, `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return nil end
local ttl = tonumber(ARGV[2])
refresh(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ttl)
local quota = ARGV[3] .. cjson.decode(state).quotaKey
redis.call('ZADD', quota, 'XX', now_ms() + ttl, ARGV[1])
redis.call('PEXPIRE', quota, ttl)
return state
`)

/** KEYS: hash, log, sessions. ARGV: id, ttl. → 1, or 0 when the session is gone. */
export const TOUCH = script(3, `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
refresh(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]))
return 1
`)

/** KEYS: hash. ARGV: patch JSON. Merges the patch into the state. → 1, or 0 when the session is gone. */
export const UPDATE = script(1, `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local merged = cjson.decode(state)
for key, value in pairs(cjson.decode(ARGV[1])) do merged[key] = value end
redis.call('HSET', KEYS[1], 'state', cjson.encode(merged))
return 1
`)

/**
 * KEYS: hash, subscribers set of the URI. ARGV: id, field ('sub:' .. uri), 1 to subscribe or 0 to unsubscribe, max,
 * ttl. → 1, 0 when the session is gone, -1 when it already holds max other subscriptions.
 */
export const SUBSCRIPTION = script(2, `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] == '1' then
  if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
    if redis.call('HINCRBY', KEYS[1], 'subs', 1) > tonumber(ARGV[4]) then
      redis.call('HINCRBY', KEYS[1], 'subs', -1)
      return -1
    end
    redis.call('HSET', KEYS[1], ARGV[2], 1)
  end
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]) + SWEEP_MARGIN_MS)
  redis.call('HSET', index_of(KEYS[1]), ARGV[2], KEYS[2])
elseif redis.call('HDEL', KEYS[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'subs', -1)
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('HDEL', index_of(KEYS[1]), ARGV[2])
end
return 1
`)

/**
 * KEYS: hash, log, sessions, quota set ('' when unknown: the index names it). ARGV: id.
 * Deletes the session and its index entries. → 1 when it existed (or was still indexed), 0 otherwise.
 */
export const END = script(4, `
return end_session(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1])
`)

/**
 * KEYS: quota set, sessions. ARGV: ttl, idle-for ms, session hash prefix, heartbeat key prefix.
 * Ends the least recently used session of the quota set idle for at least idle-for ms, with no stream running and
 * no live holder of its GET stream. → its id, or false.
 */
export const EVICT_IDLE = script(2, `
local latest = now_ms() + tonumber(ARGV[1]) - tonumber(ARGV[2])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', latest)) do
  local hash = ARGV[3] .. id
  local busy = false
  for _, field in ipairs(redis.call('HKEYS', hash)) do
    if string.sub(field, 1, 4) == 'run:' then busy = true end
  end
  local holder = redis.call('HGET', hash, 'holder')
  if holder then
    local replica = string.match(holder, '^([^/]+)/')
    if replica and redis.call('EXISTS', ARGV[4] .. replica) == 1 then busy = true end
  end
  if not busy and redis.call('EXISTS', hash) == 1 then
    end_session(hash, hash .. ':log', KEYS[2], KEYS[1], id)
    return id
  end
end
return false
`)

/** KEYS: hash. ARGV: replica, request id JSON. → the new stream's number, or 0 when the session is gone. */
export const OPEN_STREAM = script(1, `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'streams', 1)
redis.call('HSET', KEYS[1], 'run:' .. n, cjson.encode({ replica = ARGV[1], requestId = cjson.decode(ARGV[2]) }))
return n
`)

/**
 * KEYS: hash, log, sessions, channel. ARGV: id, stream id, data, final (1/0), max events, max bytes, ttl,
 * only-if-running (1/0).
 * Numbers the event, keeps it within the limits (dropping the oldest), publishes it to the session's tails.
 * → its seq; 0 when the session is gone; -1 when only-if-running and the stream already finished.
 */
export const APPEND = script(4, `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local stream = ARGV[2]
if ARGV[8] == '1' and redis.call('HEXISTS', KEYS[1], 'run:' .. stream) == 0 then return -1 end
local data = ARGV[3]
local final = ARGV[4] == '1'
local maxEvents = tonumber(ARGV[5])
local maxBytes = tonumber(ARGV[6])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local function dropped(s, q)
  local last = tonumber(redis.call('HGET', KEYS[1], 'drop:' .. s) or '0')
  if q > last then redis.call('HSET', KEYS[1], 'drop:' .. s, q) end
end
if maxEvents > 0 and #data <= maxBytes then
  redis.call('RPUSH', KEYS[2], cjson.encode({ s = stream, q = seq, d = data, f = final }))
  redis.call('HINCRBY', KEYS[1], 'kept:' .. stream, 1)
  local bytes = redis.call('HINCRBY', KEYS[1], 'bytes', #data)
  while redis.call('LLEN', KEYS[2]) > maxEvents or bytes > maxBytes do
    local old = cjson.decode(redis.call('LPOP', KEYS[2]))
    bytes = redis.call('HINCRBY', KEYS[1], 'bytes', -#old.d)
    if redis.call('HINCRBY', KEYS[1], 'kept:' .. old.s, -1) <= 0 then redis.call('HDEL', KEYS[1], 'kept:' .. old.s) end
    dropped(old.s, old.q)
  end
else
  dropped(stream, seq)
end
if final then redis.call('HDEL', KEYS[1], 'run:' .. stream) end
refresh(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[7]))
redis.call('PUBLISH', KEYS[4], cjson.encode({ type = 'event', event = { streamId = stream, seq = seq, data = data, final = final } }))
return seq
`)

/** KEYS: hash, channel. ARGV: stream id. Ends a running stream without a final event. → 1 when it was running. */
export const FINISH_STREAM = script(2, `
if redis.call('HDEL', KEYS[1], 'run:' .. ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', KEYS[2], cjson.encode({ type = 'finished', streamId = ARGV[1] }))
return 1
`)

/** KEYS: hash. → the next seq (a priming event's), or 0 when the session is gone. */
export const RESERVE = script(1, `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'seq', 1)
`)

/** KEYS: hash, channel. ARGV: stream id, holder. Announces a take-over; the standalone stream also changes holder. */
export const TAKE_OVER = script(2, `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '0' then redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'connected', 1) end
redis.call('PUBLISH', KEYS[2], cjson.encode({ type = 'takeover', streamId = ARGV[1], holder = ARGV[2] }))
return 1
`)

/**
 * KEYS: hash. ARGV: holder, heartbeat key prefix. A holder is `<replica>/<connection>`: a holder whose replica
 * stopped beating holds nothing. → { claimed (1/0), first (1/0) }, or { -1 } when the session is gone.
 */
export const CLAIM_STANDALONE = script(1, `
if redis.call('EXISTS', KEYS[1]) == 0 then return { -1 } end
local current = redis.call('HGET', KEYS[1], 'holder')
if current then
  local replica = string.match(current, '^([^/]+)/')
  if replica and redis.call('EXISTS', ARGV[2] .. replica) == 1 then return { 0, 0 } end
end
local first = 1
if redis.call('HGET', KEYS[1], 'connected') == '1' then first = 0 end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'connected', 1)
return { 1, first }
`)

/** KEYS: hash. ARGV: holder. Lets the standalone stream go if the holder still holds it. */
export const RELEASE_STANDALONE = script(1, `
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then redis.call('HDEL', KEYS[1], 'holder') end
return 1
`)

/**
 * Lua for the budget ledger. Each script runs atomically in Redis, so check-and-reserve across
 * several counters cannot interleave with another replica's.
 *
 * Layout, per budget counter K (all under the key prefix):
 *   b:K        HASH   spent, reserved (integer strings, nano-USD), l:<leaseId> -> reserved amount
 *   b:K:x      ZSET   leaseId scored by its expiry (epoch ms, Redis clock)
 *   lease:<id> STRING r | s | x (reserved, settled, released), kept a grace period for idempotency
 *
 * Amounts travel as decimal strings and are added with HINCRBY (exact 64-bit); only the limit
 * comparison converts to Lua numbers (doubles), exact while values stay <= 2^53 - 1, which
 * validate.ts enforces on every amount and limit. Time is the Redis server's (TIME), so replicas
 * with skewed clocks still agree on when a lease expires.
 */

const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Integers as plain digits whatever Lua's number formatting would do.
local function int(x) return string.format('%.0f', x) end
local function neg(s) if s == '0' then return '0' end return '-' .. s end

-- Returns lease id's amount on counter h to the available amount; false if h holds none for it.
local function unreserve(h, id)
  local amount = redis.call('HGET', h, 'l:' .. id)
  if not amount then return false end
  redis.call('HINCRBY', h, 'reserved', neg(amount))
  redis.call('HDEL', h, 'l:' .. id)
  return true
end

-- Returns leases that expired on this counter to the available amount.
local function reclaim(h, z, now)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', int(now))
  if #expired == 0 then return end
  for _, id in ipairs(expired) do unreserve(h, id) end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', int(now))
end

local function expire_at(h, z, at)
  if at ~= '' then
    redis.call('PEXPIREAT', h, at)
    redis.call('PEXPIREAT', z, at)
  end
end

-- spent, reserved of every counter (KEYS[first], KEYS[first + 2], ...) as exact strings.
local function states(first, n)
  local out = {}
  for i = 0, n - 1 do
    local v = redis.call('HMGET', KEYS[first + 2 * i], 'spent', 'reserved')
    out[#out + 1] = v[1] or '0'
    out[#out + 1] = v[2] or '0'
  end
  return out
end
`;

/**
 * KEYS: lease record, then (hash, zset) per counter.
 * ARGV: leaseId, ttlMs, graceMs, then (limit or '', expireAtMs or '', amount) per counter.
 * Returns {'reserved'|'replayed', states} or {'refused', index (1-based), spent, reserved}.
 */
export const RESERVE_LUA = `${PRELUDE}
local id = ARGV[1]
local ttl, grace = tonumber(ARGV[2]), tonumber(ARGV[3])
local n = (#KEYS - 1) / 2
local now = now_ms()
for i = 1, n do reclaim(KEYS[2 * i], KEYS[2 * i + 1], now) end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'replayed', states(2, n)}
end
for i = 1, n do
  local limit = ARGV[1 + 3 * i]
  if limit ~= '' then
    local v = redis.call('HMGET', KEYS[2 * i], 'spent', 'reserved')
    local spent, reserved = v[1] or '0', v[2] or '0'
    if tonumber(spent) + tonumber(reserved) + tonumber(ARGV[3 + 3 * i]) > tonumber(limit) then
      return {'refused', i, spent, reserved}
    end
  end
end
for i = 1, n do
  local h, z, amount = KEYS[2 * i], KEYS[2 * i + 1], ARGV[3 + 3 * i]
  redis.call('HINCRBY', h, 'reserved', amount)
  redis.call('HSET', h, 'l:' .. id, amount)
  redis.call('ZADD', z, int(now + ttl), id)
  expire_at(h, z, ARGV[2 + 3 * i])
end
redis.call('SET', KEYS[1], 'r', 'PX', int(ttl + grace))
return {'reserved', states(2, n)}
`;

/**
 * KEYS: lease record, then (hash, zset) per counter.
 * ARGV: leaseId, graceMs, then (expireAtMs or '', actual) per counter.
 * Returns {'settled'|'expired'|'duplicate', states}.
 */
export const SETTLE_LUA = `${PRELUDE}
local id, grace = ARGV[1], tonumber(ARGV[2])
local n = (#KEYS - 1) / 2
local status = redis.call('GET', KEYS[1])
if status == 's' or status == 'x' then return {'duplicate', {}} end
local now = now_ms()
local had_live = false
for i = 1, n do
  local h, z = KEYS[2 * i], KEYS[2 * i + 1]
  reclaim(h, z, now)
  if unreserve(h, id) then
    redis.call('ZREM', z, id)
    had_live = true
  end
  redis.call('HINCRBY', h, 'spent', ARGV[2 + 2 * i])
  expire_at(h, z, ARGV[1 + 2 * i])
end
redis.call('SET', KEYS[1], 's', 'PX', int(grace))
if had_live then return {'settled', states(2, n)} end
return {'expired', states(2, n)}
`;

/**
 * KEYS: lease record, then (hash, zset) per counter. ARGV: leaseId, graceMs.
 * Returns 'released' | 'absent' | 'duplicate'.
 */
export const RELEASE_LUA = `${PRELUDE}
local id, grace = ARGV[1], tonumber(ARGV[2])
local n = (#KEYS - 1) / 2
local status = redis.call('GET', KEYS[1])
if status == 's' or status == 'x' then return 'duplicate' end
local now = now_ms()
local had_live = false
for i = 1, n do
  local h, z = KEYS[2 * i], KEYS[2 * i + 1]
  reclaim(h, z, now)
  if unreserve(h, id) then
    redis.call('ZREM', z, id)
    had_live = true
  end
end
redis.call('SET', KEYS[1], 'x', 'PX', int(grace))
if had_live then return 'released' end
return 'absent'
`;

/** KEYS: (hash, zset) per counter. Returns states. */
export const STATUS_LUA = `${PRELUDE}
local n = #KEYS / 2
local now = now_ms()
for i = 1, n do reclaim(KEYS[2 * i - 1], KEYS[2 * i], now) end
return states(1, n)
`;

/**
 * KEYS: (hash, zset) per counter. ARGV: (spent, expireAtMs or '') per counter.
 * Creates only absent counters; returns the 1-based indexes it created.
 */
export const SEED_LUA = `${PRELUDE}
local n = #KEYS / 2
local seeded = {}
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  if redis.call('EXISTS', h) == 0 then
    redis.call('HSET', h, 'spent', ARGV[2 * i - 1], 'reserved', '0')
    expire_at(h, z, ARGV[2 * i])
    seeded[#seeded + 1] = i
  end
end
return seeded
`;

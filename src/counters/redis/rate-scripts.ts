/**
 * Lua for the sliding-window log rate limiter.
 *
 * Layout, per limit key K (under the key prefix):
 *   r:K    ZSET  request id scored by admission time (epoch ms, Redis clock)
 *   r:K:c  HASH  sum -> cost admitted in the window; c:<id> -> that request's cost
 *
 * An entry counts during [at, at + window). Every call first trims entries that left the window
 * (each entry is trimmed once, so the work is amortised O(1) per request), then checks
 * `sum + cost <= limit` on every limit and admits on all of them or none. Both keys expire one
 * window after the last admission, so idle limits leave nothing behind.
 */

const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(x) return string.format('%.0f', x) end

local function trim(z, h, window, now)
  local cutoff = int(now - window)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
  if #old == 0 then return end
  local freed = 0
  for _, id in ipairs(old) do
    local cost = redis.call('HGET', h, 'c:' .. id)
    if cost then
      freed = freed + tonumber(cost)
      redis.call('HDEL', h, 'c:' .. id)
    end
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
  if freed > 0 then redis.call('HINCRBY', h, 'sum', int(-freed)) end
end

local function sum_of(h) return tonumber(redis.call('HGET', h, 'sum') or '0') end
`;

/**
 * KEYS: (zset, hash) per limit. ARGV: id, then (limit, windowMs, cost) per limit.
 * Returns {outcome, refused index (0 = none), retry-after ms (-1 = never fits), used..., reset...}
 * with outcome 'admitted' | 'replayed' | 'refused'.
 */
export const TAKE_LUA = `${PRELUDE}
local id = ARGV[1]
local n = #KEYS / 2
local now = now_ms()

-- Ms until enough of the oldest entries leave the window for cost to fit.
local function wait_for(z, h, sum, limit, cost, window)
  local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
  for j = 1, #entries, 2 do
    sum = sum - tonumber(redis.call('HGET', h, 'c:' .. entries[j]) or '0')
    if sum + cost <= limit then return tonumber(entries[j + 1]) + window - now end
  end
  return window
end

local function report(outcome, refused, wait)
  local out = {outcome, refused, wait}
  for i = 1, n do out[#out + 1] = sum_of(KEYS[2 * i]) end
  for i = 1, n do
    local newest = redis.call('ZRANGE', KEYS[2 * i - 1], -1, -1, 'WITHSCORES')
    if #newest == 0 then out[#out + 1] = 0
    else out[#out + 1] = tonumber(newest[2]) + tonumber(ARGV[3 * i]) - now end
  end
  return out
end

for i = 1, n do trim(KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[3 * i]), now) end
if redis.call('HEXISTS', KEYS[2], 'c:' .. id) == 1 then return report('replayed', 0, 0) end

local refused, wait = 0, 0
for i = 1, n do
  local limit, window, cost = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local sum = sum_of(KEYS[2 * i])
  if sum + cost > limit then
    local w = -1
    if cost <= limit then w = wait_for(KEYS[2 * i - 1], KEYS[2 * i], sum, limit, cost, window) end
    -- The longest wait decides; a request that can never fit beats any wait.
    if refused == 0 or (wait ~= -1 and (w == -1 or w > wait)) then refused, wait = i, w end
  end
end
if refused > 0 then return report('refused', refused, wait) end

for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local window, cost = ARGV[3 * i], ARGV[3 * i + 1]
  redis.call('ZADD', z, int(now), id)
  redis.call('HSET', h, 'c:' .. id, cost)
  redis.call('HINCRBY', h, 'sum', cost)
  redis.call('PEXPIRE', z, window)
  redis.call('PEXPIRE', h, window)
end
return report('admitted', 0, 0)
`;

/**
 * KEYS: (zset, hash) per change. ARGV: id, then (cost, windowMs) per change.
 * Entries already out of the window are left alone. Returns the number of entries changed.
 */
export const ADJUST_LUA = `${PRELUDE}
local id = ARGV[1]
local now = now_ms()
local changed = 0
for i = 1, #KEYS / 2 do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local cost, window = ARGV[2 * i], tonumber(ARGV[2 * i + 1])
  trim(z, h, window, now)
  local old = redis.call('HGET', h, 'c:' .. id)
  if old then
    local delta = tonumber(cost) - tonumber(old)
    redis.call('HSET', h, 'c:' .. id, cost)
    if delta ~= 0 then redis.call('HINCRBY', h, 'sum', int(delta)) end
    changed = changed + 1
  end
end
return changed
`;

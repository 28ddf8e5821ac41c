-- Admits one request against every scope, or against none, atomically: the token bucket,
-- the concurrency slots, the OpenAI token budget and the calendar quotas of each scope.
-- The clock is Redis's own (TIME), so every gateway replica refills by the same clock.
--
-- KEYS, 4 per scope: state hash (t, tat: request tokens; b, bat: token budget), slots zset
-- (lease id -> expiry), day counts hash (r, t), month counts hash (r, t).
-- ARGV: scope count, check tokens (1/0), lease id, lease TTL ms, then 11 per scope:
-- rate per ms, burst, max concurrent, budget per ms, budget amount, requests per day, tokens
-- per day, day TTL ms, requests per month, tokens per month, month TTL ms (0 = not limited).
-- Returns {admitted 1/0, reason, refusing scope (1-based), retry ms, what, then 6 per scope:
-- request tokens, budget, day requests, day tokens, month requests, month tokens}.
local n = tonumber(ARGV[1])
local checkTokens = ARGV[2] == '1'
local lease = ARGV[3]
local leaseTtl = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000

local scopes = {}
for i = 1, n do
  local a = 4 + (i - 1) * 11
  local k = (i - 1) * 4
  local s = {
    state = KEYS[k + 1], slots = KEYS[k + 2], day = KEYS[k + 3], month = KEYS[k + 4],
    ratePerMs = tonumber(ARGV[a + 1]), burst = tonumber(ARGV[a + 2]), maxConc = tonumber(ARGV[a + 3]),
    budgetPerMs = tonumber(ARGV[a + 4]), budgetAmount = tonumber(ARGV[a + 5]),
    dayReq = tonumber(ARGV[a + 6]), dayTok = tonumber(ARGV[a + 7]), dayTtl = tonumber(ARGV[a + 8]),
    monthReq = tonumber(ARGV[a + 9]), monthTok = tonumber(ARGV[a + 10]), monthTtl = tonumber(ARGV[a + 11]),
  }
  local h = redis.call('HMGET', s.state, 't', 'tat', 'b', 'bat')
  if s.burst > 0 then
    local at = tonumber(h[2]) or now
    s.tokens = math.min(s.burst, (tonumber(h[1]) or s.burst) + math.max(0, now - at) * s.ratePerMs)
  end
  if s.budgetAmount > 0 then
    local at = tonumber(h[4]) or now
    s.budget = math.min(s.budgetAmount, (tonumber(h[3]) or s.budgetAmount) + math.max(0, now - at) * s.budgetPerMs)
  end
  s.inflight = 0
  if s.maxConc > 0 then
    -- Slots of requests whose replica stopped renewing them (it died) expire here.
    redis.call('ZREMRANGEBYSCORE', s.slots, '-inf', now)
    s.inflight = redis.call('ZCARD', s.slots)
  end
  local d = { 0, 0 }
  if s.dayReq > 0 or s.dayTok > 0 then d = redis.call('HMGET', s.day, 'r', 't') end
  local m = { 0, 0 }
  if s.monthReq > 0 or s.monthTok > 0 then m = redis.call('HMGET', s.month, 'r', 't') end
  s.dr, s.dt, s.mr, s.mt = tonumber(d[1]) or 0, tonumber(d[2]) or 0, tonumber(m[1]) or 0, tonumber(m[2]) or 0
  scopes[i] = s
end

local function answer(ok, reason, index, retry, what)
  local out = { ok, reason, index, tostring(retry), what }
  for _, s in ipairs(scopes) do
    out[#out + 1] = s.tokens and tostring(s.tokens) or ''
    out[#out + 1] = s.budget and tostring(s.budget) or ''
    out[#out + 1] = tostring(s.dr)
    out[#out + 1] = tostring(s.dt)
    out[#out + 1] = tostring(s.mr)
    out[#out + 1] = tostring(s.mt)
  end
  return out
end

for i, s in ipairs(scopes) do
  if s.maxConc > 0 and s.inflight >= s.maxConc then return answer(0, 'concurrency', i, 0, '') end
  if s.burst > 0 and s.tokens < 1 then return answer(0, 'rate', i, (1 - s.tokens) / s.ratePerMs, '') end
  if checkTokens and s.budgetAmount > 0 and s.budget < 1 then return answer(0, 'tokens', i, (1 - s.budget) / s.budgetPerMs, '') end
  if s.dayReq > 0 and s.dr >= s.dayReq then return answer(0, 'quota', i, 0, 'requests:day') end
  if s.monthReq > 0 and s.mr >= s.monthReq then return answer(0, 'quota', i, 0, 'requests:month') end
  if checkTokens and s.dayTok > 0 and s.dt >= s.dayTok then return answer(0, 'quota', i, 0, 'tokens:day') end
  if checkTokens and s.monthTok > 0 and s.mt >= s.monthTok then return answer(0, 'quota', i, 0, 'tokens:month') end
end

for _, s in ipairs(scopes) do
  if s.burst > 0 or s.budgetAmount > 0 then
    local full = 0
    if s.burst > 0 then
      s.tokens = s.tokens - 1
      redis.call('HSET', s.state, 't', tostring(s.tokens), 'tat', tostring(now))
      full = (s.burst - s.tokens) / s.ratePerMs
    end
    if s.budgetAmount > 0 then
      redis.call('HSET', s.state, 'b', tostring(s.budget), 'bat', tostring(now))
      full = math.max(full, (s.budgetAmount - s.budget) / s.budgetPerMs)
    end
    -- Once full again the state equals a missing one: let Redis forget it then.
    redis.call('PEXPIRE', s.state, math.ceil(full) + 1000)
  end
  if s.maxConc > 0 then
    redis.call('ZADD', s.slots, now + leaseTtl, lease)
    redis.call('PEXPIRE', s.slots, leaseTtl + 1000)
  end
  if s.dayReq > 0 then
    s.dr = redis.call('HINCRBY', s.day, 'r', 1)
    redis.call('PEXPIRE', s.day, s.dayTtl)
  end
  if s.monthReq > 0 then
    s.mr = redis.call('HINCRBY', s.month, 'r', 1)
    redis.call('PEXPIRE', s.month, s.monthTtl)
  end
end
return answer(1, '', 0, 0, '')

-- Charges one answer's OpenAI tokens to the token budget and token quotas of each scope,
-- below zero if need be (the answer is done: its tokens were spent).
-- KEYS, 3 per scope: state hash (b, bat), day counts hash, month counts hash.
-- ARGV: scope count, tokens, then 6 per scope: budget per ms, budget amount, count per day
-- (1/0), day TTL ms, count per month (1/0), month TTL ms.
local n = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
for i = 1, n do
  local a = 2 + (i - 1) * 6
  local k = (i - 1) * 3
  local perMs, size = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if size > 0 then
    local h = redis.call('HMGET', KEYS[k + 1], 'b', 'bat')
    local at = tonumber(h[2]) or now
    local budget = math.min(size, (tonumber(h[1]) or size) + math.max(0, now - at) * perMs) - amount
    redis.call('HSET', KEYS[k + 1], 'b', tostring(budget), 'bat', tostring(now))
    -- The request-token fields may need longer: never shorten the key's life.
    local ttl = math.ceil((size - budget) / perMs) + 1000
    if redis.call('PTTL', KEYS[k + 1]) < ttl then redis.call('PEXPIRE', KEYS[k + 1], ttl) end
  end
  if ARGV[a + 3] == '1' then
    redis.call('HINCRBY', KEYS[k + 2], 't', amount)
    redis.call('PEXPIRE', KEYS[k + 2], tonumber(ARGV[a + 4]))
  end
  if ARGV[a + 5] == '1' then
    redis.call('HINCRBY', KEYS[k + 3], 't', amount)
    redis.call('PEXPIRE', KEYS[k + 3], tonumber(ARGV[a + 6]))
  end
end
return 1

-- Renews the slots a replica's running requests hold in one slots zset (only those still
-- there: XX never brings back a slot that expired or was released).
-- KEYS[1]: slots zset. ARGV: lease TTL ms, lease ids.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl + 1000)
return 1

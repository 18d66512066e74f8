--[[
Forgets an invalidation retry that succeeded.
KEYS[1] due retries (zset: retry id -> due time, ms)
KEYS[2] retry jobs (hash: retry id -> job JSON)
ARGV[1] retry id
Returns 1 when the job was still stored.
]]
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('HDEL', KEYS[2], ARGV[1])

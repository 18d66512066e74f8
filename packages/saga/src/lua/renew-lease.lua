--[[
Extends the lease of the current holder.
KEYS[1] saga record (hash)
KEYS[2] active sagas (zset: saga id -> lease deadline, ms)
ARGV[1] saga id
ARGV[2] lease token
ARGV[3] lease duration, ms
Returns 1 when extended, 0 when the token no longer holds the lease.
]]
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'leaseUntil', deadline)
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
return 1

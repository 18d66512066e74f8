--[[
Stores an invalidation to retry later (the default, Redis-backed retry scheduler).
KEYS[1] due retries (zset: retry id -> due time, ms)
KEYS[2] retry jobs (hash: retry id -> job JSON)
ARGV[1] retry id (the same id twice keeps one job)
ARGV[2] job JSON
ARGV[3] delay before the first attempt, ms
Returns 1 when stored, 0 when a job with this id was already waiting.
]]
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1

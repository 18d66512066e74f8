--[[
Members of a zset whose score (a time, ms) is at least ARGV[1] ms in the past by the Redis clock: the sweep's reads of
expired leases (age 0) and of sagas finished longer ago than the retention.
KEYS[1] zset: member -> time, ms
ARGV[1] age, ms
ARGV[2] most members to return
Returns the members, oldest first.
]]
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
return redis.call('ZRANGE', KEYS[1], '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))

--[[
Records one transition of a step (or of its compensation) and appends it to the log, fenced by the lease token so a
runner that lost its lease cannot write over the new holder.
KEYS[1] saga record (hash)
KEYS[2] saga log (list of JSON entries)
ARGV[1] lease token
ARGV[2] phase: 'step' | 'compensation'
ARGV[3] step name
ARGV[4] status: 'started' | 'completed' | 'failed' | 'rejected' | 'deferred' (an invalidation handed to the retry
        scheduler: counted on the saga; the step still completes afterwards)
ARGV[5] result JSON ('' = none)
ARGV[6] error JSON ('' = none)
ARGV[7] '1' when this failure counts toward the retry budget
Returns the phase's failure count, or the error LEASE_LOST.
]]
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return redis.error_reply('LEASE_LOST') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local field = (ARGV[2] == 'step' and 'step:' or 'comp:') .. ARGV[3] .. ':'

redis.call('HSET', KEYS[1], field .. 'status', ARGV[4], 'updatedAt', now)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], field .. 'result', ARGV[5]) end
if ARGV[7] == '1' then redis.call('HINCRBY', KEYS[1], field .. 'failures', 1) end
if ARGV[4] == 'deferred' then redis.call('HINCRBY', KEYS[1], 'deferredInvalidations', 1) end

local entry = {at = now, event = ARGV[2] .. '.' .. ARGV[4], step = ARGV[3]}
if ARGV[6] ~= '' then entry.error = cjson.decode(ARGV[6]) end
redis.call('RPUSH', KEYS[2], cjson.encode(entry))
return tonumber(redis.call('HGET', KEYS[1], field .. 'failures') or '0')

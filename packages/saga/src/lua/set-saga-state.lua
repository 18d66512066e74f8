--[[
Moves a saga to a new state, keeping the per-state index sets and the active set in step, fenced by the lease token.
Resting states (completed, compensated, parked, compensation_failed) release the lease and leave the active set, so no
recovery sweep picks them up again.
KEYS[1] saga record (hash)
KEYS[2] saga log (list of JSON entries)
KEYS[3] active sagas (zset: saga id -> lease deadline, ms)
ARGV[1] index key prefix: the index set of state S is ARGV[1] .. S (derived keys: single-node Redis)
ARGV[2] saga id
ARGV[3] lease token
ARGV[4] new state
ARGV[5] error JSON ('' = none)
ARGV[6] step the saga is parked on ('' = none)
Returns the previous state, or the error LEASE_LOST.
]]
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[3] then return redis.error_reply('LEASE_LOST') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local previous = redis.call('HGET', KEYS[1], 'state')
local state = ARGV[4]

redis.call('SREM', ARGV[1] .. previous, ARGV[2])
redis.call('SADD', ARGV[1] .. state, ARGV[2])
redis.call('HSET', KEYS[1], 'state', state, 'updatedAt', now)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'parkedStep', ARGV[6]) else redis.call('HDEL', KEYS[1], 'parkedStep') end
if state ~= 'running' and state ~= 'compensating' then
  redis.call('HDEL', KEYS[1], 'owner', 'leaseUntil')
  redis.call('ZREM', KEYS[3], ARGV[2])
end

local entry = {at = now, event = 'saga.' .. state}
if ARGV[5] ~= '' then entry.error = cjson.decode(ARGV[5]) end
if ARGV[6] ~= '' then entry.step = ARGV[6] end
redis.call('RPUSH', KEYS[2], cjson.encode(entry))
return previous

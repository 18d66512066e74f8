--[[
Creates a saga when asked to and it is missing, then takes its lease unless another live holder has it.
KEYS[1] saga record (hash)
KEYS[2] saga log (list of JSON entries)
KEYS[3] active sagas (zset: saga id -> lease deadline, ms)
KEYS[4] index set of sagas in state "running"
ARGV[1] saga id
ARGV[2] lease token (unique per acquisition)
ARGV[3] lease duration, ms
ARGV[4] saga name ('' = take over an existing saga only)
ARGV[5] input JSON
Returns {outcome, detail}:
  {'created', 'running'} | {'acquired', state} | {'busy', state} | {'finished', state} | {'missing', ''}
  | {'conflict', recorded name} when the id belongs to a saga of another name.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[3])

if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[4] == '' then return {'missing', ''} end
  redis.call('HSET', KEYS[1], 'name', ARGV[4], 'input', ARGV[5], 'state', 'running', 'createdAt', now,
    'updatedAt', now, 'owner', ARGV[2], 'leaseUntil', deadline)
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('ZADD', KEYS[3], deadline, ARGV[1])
  redis.call('RPUSH', KEYS[2], cjson.encode({at = now, event = 'saga.started'}))
  return {'created', 'running'}
end

local rec = redis.call('HMGET', KEYS[1], 'name', 'state', 'owner', 'leaseUntil')
if ARGV[4] ~= '' and rec[1] ~= ARGV[4] then return {'conflict', rec[1]} end
local state = rec[2]
if state ~= 'running' and state ~= 'compensating' then return {'finished', state} end
if rec[3] and rec[3] ~= '' and tonumber(rec[4]) > now then return {'busy', state} end

redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'leaseUntil', deadline, 'updatedAt', now)
redis.call('ZADD', KEYS[3], deadline, ARGV[1])
redis.call('RPUSH', KEYS[2], cjson.encode({at = now, event = 'saga.resumed', state = state}))
return {'acquired', state}

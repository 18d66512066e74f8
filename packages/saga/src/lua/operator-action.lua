--[[
Applies an operator's decision to a saga waiting for one (state parked or compensation_failed) and logs who did it.
  retry:   parked -> running, compensation_failed -> compensating; the parked step gets a fresh retry budget.
  skip:    as retry, and the parked step (ARGV[4] must name it) counts as done: its result is null, or its
           compensation is considered applied.
  resolve: -> resolved, a resting state: the operator finished the work by hand.
After retry or skip the saga is claimable at once (active score 0) by whichever runner drives it next.
KEYS[1] saga record (hash)
KEYS[2] saga log (list of JSON entries)
KEYS[3] active sagas (zset: saga id -> lease deadline, ms)
ARGV[1] index key prefix: the index set of state S is ARGV[1] .. S (derived keys: single-node Redis)
ARGV[2] saga id
ARGV[3] action: 'retry' | 'skip' | 'resolve'
ARGV[4] step name (skip only)
ARGV[5] actor
ARGV[6] note ('' = none)
Returns the new state, or the error NOT_FOUND, INVALID_STATE:<state> or WRONG_STEP:<parked step>.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return redis.error_reply('NOT_FOUND') end
if state ~= 'parked' and state ~= 'compensation_failed' then return redis.error_reply('INVALID_STATE:' .. state) end
local parked = redis.call('HGET', KEYS[1], 'parkedStep') or ''
local action = ARGV[3]
if action == 'skip' and ARGV[4] ~= parked then return redis.error_reply('WRONG_STEP:' .. parked) end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local field = (state == 'parked' and 'step:' or 'comp:') .. parked .. ':'
local newState = 'resolved'
if action ~= 'resolve' then
  newState = state == 'parked' and 'running' or 'compensating'
  redis.call('HSET', KEYS[1], field .. 'failures', 0)
  if action == 'skip' then redis.call('HSET', KEYS[1], field .. 'status', 'skipped', field .. 'result', 'null') end
  redis.call('ZADD', KEYS[3], 0, ARGV[2])
end

redis.call('SREM', ARGV[1] .. state, ARGV[2])
redis.call('SADD', ARGV[1] .. newState, ARGV[2])
redis.call('HSET', KEYS[1], 'state', newState, 'updatedAt', now)
redis.call('HDEL', KEYS[1], 'parkedStep')
local entry = {at = now, event = 'operator.' .. action, actor = ARGV[5], step = parked, state = newState}
if ARGV[6] ~= '' then entry.note = ARGV[6] end
redis.call('RPUSH', KEYS[2], cjson.encode(entry))
return newState

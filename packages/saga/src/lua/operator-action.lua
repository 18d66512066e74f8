--[[
Applies an operator's decision to a saga waiting for one (state parked or compensation_failed) and logs who did it.
  retry:   parked -> running, compensation_failed -> compensating; the parked step gets a fresh retry budget.
  skip:    as retry, and the parked step (ARGV[3] must name it) counts as done: its result is null, or its
           compensation is considered applied.
  resolve: -> resolved, a final state: the operator finished the work by hand.
After retry or skip the saga is claimable at once (active score 0) by whichever runner drives it next.
KEYS[1] saga record (hash), KEYS[2] its log (list), KEYS[3..11] the bucket's active and finished zsets and its seven
state index sets (see lib/move-to-state.lua)
ARGV[1] saga id
ARGV[2] action: 'retry' | 'skip' | 'resolve'
ARGV[3] step name (skip only)
ARGV[4] the log entry's actor and note, as JSON fields without braces: "actor":"ann","note":"..."
Returns {'ok', new state} | {'not_found'} | {'invalid_state', state} | {'wrong_step', parked step}.
]]
--!include lib/move-to-state.lua
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'not_found'} end
if state ~= 'parked' and state ~= 'compensation_failed' then return {'invalid_state', state} end
local parked = redis.call('HGET', KEYS[1], 'parkedStep') or ''
local action = ARGV[2]
if action == 'skip' and ARGV[3] ~= parked then return {'wrong_step', parked} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local field = (state == 'parked' and 'step:' or 'comp:') .. parked .. ':'
local new_state = 'resolved'
local fields = {'updatedAt', now}
if action ~= 'resolve' then
  new_state = state == 'parked' and 'running' or 'compensating'
  table.insert(fields, field .. 'failures')
  table.insert(fields, 0)
  if action == 'skip' then
    table.insert(fields, field .. 'status')
    table.insert(fields, 'skipped')
    table.insert(fields, field .. 'result')
    table.insert(fields, 'null')
  end
  redis.call('ZADD', KEYS[3], 0, ARGV[1])
end
move_index(ARGV[1], state, new_state)
table.insert(fields, 'state')
table.insert(fields, new_state)
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HDEL', KEYS[1], 'parkedStep')
redis.call('RPUSH', KEYS[2], '{"at":' .. now .. ',"event":"operator.' .. action .. '","step":' .. cjson.encode(parked)
  .. ',"state":"' .. new_state .. '",' .. ARGV[4] .. '}')
return {'ok', new_state}

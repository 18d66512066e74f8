--[[
Creates a saga when asked to and it is missing, then takes its lease unless another live holder has it.
KEYS[1] saga record (hash), KEYS[2] its log (list), KEYS[3..11] the bucket's active and finished zsets and its seven
state index sets (see lib/move-to-state.lua)
ARGV[1] saga id
ARGV[2] lease token (unique per acquisition)
ARGV[3] lease duration, ms
ARGV[4] saga name ('' = take over an existing saga only)
ARGV[5] input JSON
ARGV[6] the trace context it is created in, JSON ('' = none): kept as the record's `trace` field
ARGV[7..] a write applied right after creating it, as lib/apply-write.lua reads it: the start of its first step, so
          that a new saga costs one call before its first side effect
Returns {outcome, detail}:
  {'created'} | {'acquired', record} | {'finished', record} | {'busy', state} | {'missing'}
  | {'conflict', recorded name} when the id belongs to a saga of another name.
  `record` is the flat HGETALL of the record, so the caller needs no second read.
]]
--!include lib/apply-write.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[3])

if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[4] == '' then return {'missing'} end
  move_index(ARGV[1], nil, 'running')
  redis.call('ZADD', KEYS[3], deadline, ARGV[1])
  local fields = {'name', ARGV[4], 'input', ARGV[5], 'state', 'running', 'createdAt', now, 'updatedAt', now,
    'owner', ARGV[2], 'leaseUntil', deadline}
  if ARGV[6] ~= '' then
    table.insert(fields, 'trace')
    table.insert(fields, ARGV[6])
  end
  local entries = {'{"at":' .. now .. ',"event":"saga.started"}'}
  if #ARGV >= 7 then
    apply_write(ARGV[1], 7, nil, fields, entries)
  else
    redis.call('HSET', KEYS[1], unpack(fields))
    redis.call('RPUSH', KEYS[2], unpack(entries))
  end
  return {'created'}
end

local rec = redis.call('HMGET', KEYS[1], 'name', 'state', 'owner', 'leaseUntil')
if ARGV[4] ~= '' and rec[1] ~= ARGV[4] then return {'conflict', rec[1]} end
local state = rec[2]
if state ~= 'running' and state ~= 'compensating' then return {'finished', redis.call('HGETALL', KEYS[1])} end
if rec[3] and tonumber(rec[4]) > now then return {'busy', state} end

redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'leaseUntil', deadline, 'updatedAt', now)
redis.call('ZADD', KEYS[3], deadline, ARGV[1])
redis.call('RPUSH', KEYS[2], '{"at":' .. now .. ',"event":"saga.resumed","state":"' .. state .. '"}')
return {'acquired', redis.call('HGETALL', KEYS[1])}

--[[
Deletes sagas that have rested in a final state (completed, compensated, resolved) for longer than the retention, with
their log and index entry; sagas in any other state, or younger, are kept. Index entries whose record is already gone
are dropped too.
KEYS    none: the keys are derived from ARGV[1] (single-node Redis, like the index sets)
ARGV[1] key prefix: records are ARGV[1] .. 'saga:' .. id, logs the same .. ':log', index sets ARGV[1] .. 'state:' .. S
ARGV[2] final state whose index set the ids come from
ARGV[3] retention, ms: a saga is forgotten when its last change (updatedAt) is older than this
ARGV[4..] saga ids
Returns the number of sagas deleted.
]]
local state = ARGV[2]
if state ~= 'completed' and state ~= 'compensated' and state ~= 'resolved' then
  return redis.error_reply('NOT_FINAL:' .. state)
end
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[3])
local index = ARGV[1] .. 'state:' .. state
local deleted = 0
for i = 4, #ARGV do
  local record = ARGV[1] .. 'saga:' .. ARGV[i]
  local current = redis.call('HMGET', record, 'state', 'updatedAt')
  if not current[1] then
    redis.call('SREM', index, ARGV[i])
  elseif current[1] == state and tonumber(current[2]) <= cutoff then
    redis.call('DEL', record, record .. ':log')
    redis.call('SREM', index, ARGV[i])
    deleted = deleted + 1
  end
end
return deleted

--[[
Deletes a saga that has rested in a final state (completed, compensated, resolved) for longer than the retention, with
its log and index entries. It is checked again here: a saga in another state, or younger, is kept, and an entry whose
record is gone is dropped.
KEYS[1] the bucket's finished zset (id -> end time, ms)
KEYS[2], KEYS[3], KEYS[4] its index sets of completed, compensated and resolved
KEYS[5] the saga record, KEYS[6] its log
ARGV[1] retention, ms: the saga is forgotten when its last change (updatedAt) is older than this
ARGV[2] the saga id
Returns 1 when the saga was deleted, else 0.
]]
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
local index = {completed = KEYS[2], compensated = KEYS[3], resolved = KEYS[4]}
local id = ARGV[2]
local current = redis.call('HMGET', KEYS[5], 'state', 'updatedAt')
if not current[1] then
  redis.call('ZREM', KEYS[1], id)
  for _, set in pairs(index) do redis.call('SREM', set, id) end
  return 0
end
if not index[current[1]] then
  redis.call('ZREM', KEYS[1], id)
  return 0
end
if tonumber(current[2]) > cutoff then return 0 end
redis.call('DEL', KEYS[5], KEYS[6])
redis.call('SREM', index[current[1]], id)
redis.call('ZREM', KEYS[1], id)
return 1

--[[
Shared by the scripts that move a saga to another state (included with --!include, never loaded on its own). They take
KEYS[3] the bucket's active zset (id -> lease deadline, ms), KEYS[4] its finished zset (id -> end time, ms) and
KEYS[5..11] its index sets of the states running, compensating, completed, compensated, parked, compensation_failed,
resolved. The caller writes the record's own fields (`state`; without `owner` and `leaseUntil` when the new state
releases the lease), in the same HSET/HDEL as its other fields.
]]
local DRIVEN = {running = true, compensating = true}

-- Moves the saga between the index sets; a state no runner drives leaves the active index, a final one starts the
-- retention (by the Redis clock, like every age the sweeps compare).
local function move_index(saga_id, previous, state)
  local index = {running = 5, compensating = 6, completed = 7, compensated = 8, parked = 9,
    compensation_failed = 10, resolved = 11}
  if previous then redis.call('SREM', KEYS[index[previous]], saga_id) end
  redis.call('SADD', KEYS[index[state]], saga_id)
  if not DRIVEN[state] then redis.call('ZREM', KEYS[3], saga_id) end
  if state == 'completed' or state == 'compensated' or state == 'resolved' then
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[4], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), saga_id)
  end
end

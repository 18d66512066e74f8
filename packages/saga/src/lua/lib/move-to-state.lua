--[[
Shared by the scripts that move a saga to another state (included with --!include, never loaded on its own). They take
KEYS[1] the saga record (hash), KEYS[3] the bucket's active zset (id -> lease deadline, ms), KEYS[4] its finished zset
(id -> end time, ms) and KEYS[5..11] its index sets of the states running, compensating, completed, compensated,
parked, compensation_failed, resolved.
]]
-- Moves the saga between index sets and sets its state; a state no runner drives releases the lease, a final one
-- starts the retention (by the Redis clock, like every age the sweeps compare).
local function move_to_state(saga_id, state)
  local index = {running = 5, compensating = 6, completed = 7, compensated = 8, parked = 9,
    compensation_failed = 10, resolved = 11}
  local previous = redis.call('HGET', KEYS[1], 'state')
  if previous then redis.call('SREM', KEYS[index[previous]], saga_id) end
  redis.call('SADD', KEYS[index[state]], saga_id)
  redis.call('HSET', KEYS[1], 'state', state)
  if state ~= 'running' and state ~= 'compensating' then
    redis.call('HDEL', KEYS[1], 'owner', 'leaseUntil')
    redis.call('ZREM', KEYS[3], saga_id)
  end
  if state == 'completed' or state == 'compensated' or state == 'resolved' then
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[4], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), saga_id)
  end
end

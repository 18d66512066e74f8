--[[
Records one write of a saga (the completion of a step with the start of the next, a failure, a move to another
state...) atomically, fenced by the lease token so a runner that lost its lease cannot write over the new holder.
KEYS[1] saga record (hash), KEYS[2] its log (list); KEYS[3..11] (the bucket's active and finished zsets and its seven
state index sets, see lib/move-to-state.lua) only when the write moves the saga to another state
ARGV[1] saga id
ARGV[2] lease token
ARGV[3..] the write, as lib/apply-write.lua reads it
Returns 1 when applied, 0 when the token no longer holds the lease (nothing was written).
]]
--!include lib/apply-write.lua
local current = redis.call('HMGET', KEYS[1], 'owner', 'state')
if current[1] ~= ARGV[2] then return 0 end
apply_write(ARGV[1], 3, current[2], {}, {})
return 1

--[[
  Writes an entry only if no counter moved since the caller captured it, before its loader ran: a
  delete or invalidation that happened meanwhile turns the late fill into a no-op. The entry is written
  as the client built it (this script never reads it).

  KEYS[1]     entry <P>:e:<key>
  KEYS[2..n]  the fence's counters: key generation, pattern epoch, namespace generation, dependencies
  ARGV[1]     the entry
  ARGV[2]     PX of the entry (TTL + grace)
  ARGV[3..]   the versions captured for KEYS[2..n], in order

  Returns 1 written, 0 rejected as stale.
]]
local current = redis.call('MGET', unpack(KEYS, 2))
for i = 1, #KEYS - 1 do
  if current[i] ~= ARGV[i + 2] then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

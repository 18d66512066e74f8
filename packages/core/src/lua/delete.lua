--[[
  Deletes entries and bumps their key generations, so a fill that captured the old generation
  before its loader ran can no longer land.

  KEYS        pairs: entry hash <P>:e:<key>, key generation <P>:g:k:<key>
  ARGV[1]     random 48-bit nonce for a missing key generation (it must not come back as an old value)
  ARGV[2]     PX of the key generation counter

  Returns how many entries existed and were deleted.
]]
local removed = 0
for i = 1, #KEYS, 2 do
  removed = removed + redis.call('DEL', KEYS[i])
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    redis.call('SET', KEYS[i + 1], ARGV[1])
  end
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[2])
end
return removed

--[[
  An authoritative write (`cache.set`): bumps the key generation, so a fill of older data still in flight
  is rejected, and writes the entry as the client built it. The versions the entry records were captured
  just before; if one moved since, the entry simply reads as invalidated.

  KEYS[1]     entry <P>:e:<key>
  KEYS[2]     key generation <P>:g:kb:<bucket>
  ARGV[1]     the entry
  ARGV[2]     PX of the entry (TTL + grace)
  ARGV[3]     random 48-bit nonce for a missing key generation

  Returns 1.
]]
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[3])
end
redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

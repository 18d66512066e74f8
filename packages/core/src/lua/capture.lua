--[[
  Captures the versions a later fill is fenced by, creating a missing counter (never created, or evicted)
  from a random nonce, so it can never come back equal to a version recorded before it went missing. A read
  that found every counter present captured them itself: this script runs only when one was missing.

  KEYS        generation counters <P>:g:...
  ARGV[1]     random 48-bit nonce

  Returns the versions of KEYS, in order.
]]
local versions = redis.call('MGET', unpack(KEYS))
for i = 1, #KEYS do
  if not versions[i] then
    redis.call('SET', KEYS[i], ARGV[1])
    versions[i] = ARGV[1]
  end
end
return versions

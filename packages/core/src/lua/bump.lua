--[[
  Bumps generation counters (tag, scope, cached function, pattern epoch, namespace): O(1) per
  counter whatever the number of entries that recorded it. A missing counter (never created, or
  evicted) is first set to a random nonce, so it can never come back equal to a recorded version.

  KEYS        counters <P>:g:<dependency>
  ARGV[1]     random 48-bit nonce

  Returns, per counter in order, 1 when it existed (something was written with it), 0 when it did not.
]]
local existed = {}
for i = 1, #KEYS do
  existed[i] = redis.call('EXISTS', KEYS[i])
  if existed[i] == 0 then
    redis.call('SET', KEYS[i], ARGV[1])
  end
  redis.call('INCR', KEYS[i])
end
return existed

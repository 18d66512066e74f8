--[[
  Deletes entries and bumps their key generations, so a fill that captured the old generation before
  its loader ran can no longer land.

  KEYS[1..m]  entries <P>:e:<key>
  KEYS[m+1..] their key generations <P>:g:kb:<bucket>, each once
  ARGV[1]     m, the number of entries
  ARGV[2]     random 48-bit nonce for a missing key generation (it must not come back as an old value)

  Returns, per entry in order, 1 when it existed (and was deleted), 0 when there was none.
]]
local entries = tonumber(ARGV[1])
local existed = {}
for i = 1, entries do
  existed[i] = redis.call('DEL', KEYS[i])
end
for i = entries + 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SET', KEYS[i], ARGV[2])
  end
  redis.call('INCR', KEYS[i])
end
return existed

--[[
  Takes the cross-process load lease of a key. The lease is fenced by the key generation its
  holder captured: a holder of another generation cannot land its fill, so its lease is taken over.

  KEYS[1]     lease <P>:l:<key>
  ARGV[1]     owner token (no '|')
  ARGV[2]     key generation the owner captured before loading
  ARGV[3]     PX of the lease

  Returns 1 when taken, 0 when another loader of the same generation holds it.
]]
local current = redis.call('GET', KEYS[1])
if current and string.match(current, '|(.*)$') == ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1

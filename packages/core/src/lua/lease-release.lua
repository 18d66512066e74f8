--[[
  Releases a load lease if the caller still holds it (it may have expired and been taken over).

  KEYS[1]     lease <P>:l:<key>
  ARGV[1]     owner token

  Returns 1 when released, 0 when held by someone else or gone.
]]
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  return redis.call('DEL', KEYS[1])
end
return 0

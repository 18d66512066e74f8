--[[
  Reads one entry and checks it against the generation counters it recorded, in one round trip.
  An entry whose recorded version differs from the current counter (or whose counter is missing)
  was invalidated: it is deleted here and reported as such, never served, not even from grace.

  KEYS[1]     entry hash <P>:e:<key>
  KEYS[2..n]  counters the caller captures for a later fill, key generation first; missing ones are
              initialised to ARGV[3] (the key generation with PX ARGV[4])
  ARGV[1]     prefix <P>
  ARGV[2]     now, ms since the epoch
  ARGV[3]     random 48-bit nonce for missing counters
  ARGV[4]     PX of the key generation counter
  ARGV[5]     on a fresh hit, versions are returned past c + (x - c) * ARGV[5]; '0' never, '-1' always

  Returns {status, data, x, g, c, deps, versions}:
  status 0 miss, 1 fresh hit, 2 past its TTL but within grace, 3 invalidated (deleted, treat as miss)
]]
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local status = 0
local data, x, g, c = false, '0', '0', '0'
local deps = {}

local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then
  status = 1
  for i = 1, #fields, 2 do
    local field = fields[i]
    if field == 'd' then
      data = fields[i + 1]
    elseif field == 'x' then
      x = fields[i + 1]
    elseif field == 'g' then
      g = fields[i + 1]
    elseif field == 'c' then
      c = fields[i + 1]
    elseif string.sub(field, 1, 2) == 'v:' then
      local dep = string.sub(field, 3)
      if redis.call('GET', prefix .. ':g:' .. dep) ~= fields[i + 1] then
        status = 3
        break
      end
      if dep ~= 'n' then deps[#deps + 1] = dep end
    end
  end
  if status == 3 or not data then
    redis.call('DEL', KEYS[1])
    status, data, deps = 3, false, {}
  elseif now >= tonumber(x) then
    status = 2
  end
end

local versions = {}
local fraction = tonumber(ARGV[5])
local created = tonumber(c)
if status ~= 1 or fraction < 0 or (fraction > 0 and now >= created + (tonumber(x) - created) * fraction) then
  for i = 2, #KEYS do
    local version = redis.call('GET', KEYS[i])
    if not version then
      version = ARGV[3]
      if i == 2 then
        redis.call('SET', KEYS[i], version, 'PX', ARGV[4])
      else
        redis.call('SET', KEYS[i], version)
      end
    end
    versions[#versions + 1] = version
  end
end

return {status, data, x, g, c, deps, versions}

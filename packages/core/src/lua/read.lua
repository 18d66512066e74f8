--[[
  Reads one entry and checks it against the generation counters it recorded, in one round trip.
  An entry whose recorded version differs from the current counter (or whose counter is missing)
  was invalidated: it is deleted here and reported as such, never served, not even from grace.

  An entry is one string, fields separated by NUL (which no key, tag, scope or name may contain,
  and which JSON escapes), written by fill.lua and decoded in Node by tiers/entry-format.ts:
    1 <count> {<dep> <version>}* <expiry> <grace end> <created> <JSON value>

  KEYS[1]     entry <P>:e:<key>
  KEYS[2..n]  counters the caller captures for a later fill, key generation first; missing ones are
              initialised to ARGV[3] (the key generation with PX ARGV[4])
  ARGV[1]     prefix <P>
  ARGV[2..5]  only with counters (a plain `get` sends none):
  ARGV[2]     now, ms since the epoch
  ARGV[3]     random 48-bit nonce for missing counters
  ARGV[4]     PX of the key generation counter
  ARGV[5]     on a fresh hit, versions are returned past c + (x - c) * ARGV[5]; '0' never, '-1' always

  Returns the stored entry itself on a hit that needs no versions (the common case: one bulk string
  back, which the caller checks for expiry); otherwise {status, entry or false, versions of KEYS[2..n]...}:
  status 0 miss, 1 fresh hit, 2 past its TTL but within grace, 3 invalidated (deleted, treat as miss)
]]
-- One MGET for the entry and the caller's counters: an entry's own dependencies are usually among
-- them, so a hit rarely needs a second call. A plain get passes none, so it fetches the namespace
-- generation, which every entry records, alongside. MGET answers nil for a key of another type,
-- such as an entry of an older format, which the next fill overwrites.
local known = {}
local current
if #KEYS == 1 then
  local namespace = ARGV[1] .. ':g:n'
  current = redis.call('MGET', KEYS[1], namespace)
  known[namespace] = current[2]
else
  current = redis.call('MGET', unpack(KEYS))
  for i = 2, #KEYS do
    known[KEYS[i]] = current[i]
  end
end
local raw = current[1]
local status = 0
local x, c

if raw then
  status = 1
  if string.sub(raw, 1, 2) ~= '1\0' then
    status = 3
  else
    local bar = string.find(raw, '\0', 3, true)
    local count = tonumber(string.sub(raw, 3, bar - 1))
    local missing, recorded = {}, {}
    for _ = 1, count do
      local depEnd = string.find(raw, '\0', bar + 1, true)
      local counter = ARGV[1] .. ':g:' .. string.sub(raw, bar + 1, depEnd - 1)
      bar = string.find(raw, '\0', depEnd + 1, true)
      local version = string.sub(raw, depEnd + 1, bar - 1)
      local value = known[counter]
      if value == nil then
        missing[#missing + 1] = counter
        recorded[#missing] = version
      elseif value ~= version then
        status = 3
        break
      end
    end
    if status == 1 and #missing > 0 then
      local values = redis.call('MGET', unpack(missing))
      for i = 1, #missing do
        if values[i] ~= recorded[i] then
          status = 3
          break
        end
      end
    end
    if status == 1 and #KEYS > 1 then
      local xEnd = string.find(raw, '\0', bar + 1, true)
      x = tonumber(string.sub(raw, bar + 1, xEnd - 1))
      local gEnd = string.find(raw, '\0', xEnd + 1, true)
      c = tonumber(string.sub(raw, gEnd + 1, string.find(raw, '\0', gEnd + 1, true) - 1))
      if tonumber(ARGV[2]) >= x then status = 2 end
    end
  end
  if status == 3 then
    redis.call('DEL', KEYS[1])
    raw = false
  end
end

if #KEYS == 1 then
  if status == 1 then return raw end
  return {status, raw}
end
if status == 1 then
  local fraction = tonumber(ARGV[5])
  if fraction == 0 or (fraction > 0 and tonumber(ARGV[2]) < c + (x - c) * fraction) then
    return raw
  end
end

local reply = {status, raw}
for i = 2, #KEYS do
  local version = current[i]
  if not version then
    version = ARGV[3]
    if i == 2 then
      redis.call('SET', KEYS[i], version, 'PX', ARGV[4])
    else
      redis.call('SET', KEYS[i], version)
    end
  end
  reply[i + 1] = version
end
return reply

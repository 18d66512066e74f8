--[[
  Writes an entry. In 'fill' mode only if no counter moved since the caller captured it before its
  loader ran: a delete or invalidation that happened meanwhile turns the late fill into a no-op.
  In 'set' mode the caller's value is authoritative: the key generation is bumped (so in-flight
  fills of older data are rejected) and the current versions are recorded.

  The entry is one string that read.lua and tiers/entry-format.ts parse (this is the only writer),
  fields separated by NUL (which no key, tag, scope or name may contain, and which JSON escapes):
    1 <count> {<dep> <version>}* <expiry> <grace end> <created> <JSON value>
  where each dep is a counter name past '<P>:g:' (KEYS[4..n]) and version what it recorded.

  KEYS[1]     entry <P>:e:<key>
  KEYS[2]     key generation <P>:g:k:<key>
  KEYS[3]     pattern epoch <P>:g:p (checked, not recorded: pattern invalidation deletes what matches)
  KEYS[4..n]  counters recorded in the entry: namespace generation, tags, scopes, cached function
  ARGV[1]     prefix <P>
  ARGV[2]     'fill' or 'set'
  ARGV[3]     'set' mode: random 48-bit nonce for missing counters
  ARGV[4]     'set' mode: PX of the key generation counter (a fill leaves it: read.lua gave it one when
              it created it, and one that expires mid-load only turns that fill into a no-op)
  ARGV[5]     serialized value
  ARGV[6..8]  logical expiry, grace end, creation time (ms since the epoch)
  ARGV[9]     PX of the entry (TTL + grace)
  ARGV[10..]  'fill' mode: the versions captured for KEYS[2..n], in order

  Returns 1 written, 0 rejected as stale.
]]
local versions = {}
if ARGV[2] == 'fill' then
  local current = redis.call('MGET', unpack(KEYS, 2))
  for i = 2, #KEYS do
    if current[i - 1] ~= ARGV[i + 8] then
      return 0
    end
    versions[i] = ARGV[i + 8]
  end
else
  redis.call('SET', KEYS[2], ARGV[3], 'NX')
  redis.call('INCR', KEYS[2])
  for i = 4, #KEYS do
    local version = redis.call('GET', KEYS[i])
    if not version then
      version = ARGV[3]
      redis.call('SET', KEYS[i], version)
    end
    versions[i] = version
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end

local parts = {'1', #KEYS - 3}
local depStart = #ARGV[1] + 4
for i = 4, #KEYS do
  parts[#parts + 1] = string.sub(KEYS[i], depStart)
  parts[#parts + 1] = versions[i]
end
parts[#parts + 1] = ARGV[6]
parts[#parts + 1] = ARGV[7]
parts[#parts + 1] = ARGV[8]
parts[#parts + 1] = ARGV[5]
redis.call('SET', KEYS[1], table.concat(parts, '\0'), 'PX', ARGV[9])
return 1

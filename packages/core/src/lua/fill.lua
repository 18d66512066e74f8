--[[
  Writes an entry. In 'fill' mode only if no counter moved since the caller captured it before its
  loader ran: a delete or invalidation that happened meanwhile turns the late fill into a no-op.
  In 'set' mode the caller's value is authoritative: the key generation is bumped (so in-flight
  fills of older data are rejected) and the current versions are recorded.

  KEYS[1]     entry hash <P>:e:<key>
  KEYS[2]     key generation <P>:g:k:<key>
  KEYS[3]     pattern epoch <P>:g:p (checked, not recorded: pattern invalidation deletes what matches)
  KEYS[4..n]  counters recorded in the entry: namespace generation, tags, scopes, cached function
  ARGV[1]     prefix <P>
  ARGV[2]     'fill' or 'set'
  ARGV[3]     random 48-bit nonce for missing counters
  ARGV[4]     PX of the key generation counter
  ARGV[5]     serialized value
  ARGV[6..8]  logical expiry, grace end, creation time (ms since the epoch)
  ARGV[9]     PX of the entry (TTL + grace)
  ARGV[10..]  'fill' mode: the versions captured for KEYS[2..n], in order

  Returns 1 written, 0 rejected as stale.
]]
local versions = {}
if ARGV[2] == 'fill' then
  for i = 2, #KEYS do
    if redis.call('GET', KEYS[i]) ~= ARGV[i + 8] then
      return 0
    end
    versions[i] = ARGV[i + 8]
  end
else
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('SET', KEYS[2], ARGV[3])
  end
  redis.call('INCR', KEYS[2])
  for i = 4, #KEYS do
    local version = redis.call('GET', KEYS[i])
    if not version then
      version = ARGV[3]
      redis.call('SET', KEYS[i], version)
    end
    versions[i] = version
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])

local fields = {'d', ARGV[5], 'x', ARGV[6], 'g', ARGV[7], 'c', ARGV[8]}
local depStart = #ARGV[1] + 4
for i = 4, #KEYS do
  fields[#fields + 1] = 'v:' .. string.sub(KEYS[i], depStart)
  fields[#fields + 1] = versions[i]
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return 1

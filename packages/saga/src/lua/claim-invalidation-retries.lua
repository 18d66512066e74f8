--[[
Claims due invalidation retries: each claimed job is pushed into the future by the visibility timeout, so a worker that
dies mid-retry leaves it to be claimed again (and a failed retry simply waits for that timeout: its backoff).
KEYS[1] due retries (zset: retry id -> due time, ms)
KEYS[2] retry jobs (hash: retry id -> job JSON)
ARGV[1] most jobs to claim
ARGV[2] visibility timeout, ms
Returns a flat list {id1, job1, id2, job2, ...}.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))
local claimed = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[2], id)
  if job then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    table.insert(claimed, id)
    table.insert(claimed, job)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return claimed

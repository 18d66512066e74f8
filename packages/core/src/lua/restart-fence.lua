--[[
  Says which server serves the namespace (from INFO: run id, role, replication id and offset) and makes
  every entry written under an earlier server invalid, once per server. KEYS[2] holds the run id under
  which the namespace generation was last fenced; when it is not this server's (a restart, possibly from
  an older snapshot; a failover to a replica; a namespace moved to another master), the namespace
  generation is set to a fresh random value and KEYS[2] to this run id. The instances that notice the same
  restart after the first one find their run id there and bump nothing. A fresh value, never INCR: after a
  rollback an incremented counter could come back equal to a version recorded before the rollback.
  ARGV[2] = '1' bumps whatever KEYS[2] says (the replication offset went backwards under the same run id,
  which nothing stored in Redis can tell). A replica answers without writing.

  KEYS[1]  namespace generation <P>:g:n
  KEYS[2]  the run id the namespace generation was last fenced under <P>:r
  ARGV[1]  random 48-bit nonce
  ARGV[2]  '1' to bump whatever KEYS[2] says, '0' otherwise

  Returns { run id, role, replication id, replication offset, the previous run id of KEYS[2] or false,
  1 when it bumped or 0 }.
]]
local server = redis.call('INFO', 'server')
local replication = redis.call('INFO', 'replication')
local run_id = string.match(server, 'run_id:(%w+)') or ''
local role = string.match(replication, 'role:(%w+)') or ''
local replid = string.match(replication, 'master_replid:(%w+)') or ''
local offset = string.match(replication, 'master_repl_offset:(%d+)') or '0'
local fenced = redis.call('GET', KEYS[2])
local bumped = 0
if role == 'master' and (fenced ~= run_id or ARGV[2] == '1') then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], run_id)
  bumped = 1
end
return { run_id, role, replid, offset, fenced, bumped }

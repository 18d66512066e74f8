--[[
Shared by acquire-saga.lua and advance-saga.lua (included with --!include, never loaded on its own): applies one write
that the store prepared (src/store/redis/change-encoding.ts, the only code that builds it) to the saga record KEYS[1]
and its log KEYS[2]. The arguments from ARGV[first] on:
  [first]     number of hash fields to set (S), of failure counters to increment (I), of fields to delete (D), of
  [first + 3] log entries (L)
  [first + 4] the state the write ends in ('' = no state change: the bucket's index keys KEYS[3..11] are not needed)
  then S field/value pairs, I field names, D field names, L log entries (JSON, appended as they are)
`previous` is the saga's state before the write; `fields` and `entries` are set and appended with the write's own.
]]
--!include lib/move-to-state.lua
local function apply_write(saga_id, first, previous, fields, entries)
  local sets, increments, deletes, logs = tonumber(ARGV[first]), tonumber(ARGV[first + 1]),
    tonumber(ARGV[first + 2]), tonumber(ARGV[first + 3])
  local state = ARGV[first + 4]
  local at = first + 5
  for i = at, at + 2 * sets - 1 do table.insert(fields, ARGV[i]) end
  at = at + 2 * sets
  for i = at, at + increments - 1 do redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end
  at = at + increments
  local removed = {}
  for i = at, at + deletes - 1 do table.insert(removed, ARGV[i]) end
  at = at + deletes
  for i = at, at + logs - 1 do table.insert(entries, ARGV[i]) end
  if state ~= '' then
    move_index(saga_id, previous, state)
    table.insert(fields, 'state')
    table.insert(fields, state)
    if not DRIVEN[state] then
      table.insert(removed, 'owner')
      table.insert(removed, 'leaseUntil')
    end
  end
  if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
  if #removed > 0 then redis.call('HDEL', KEYS[1], unpack(removed)) end
  if #entries > 0 then redis.call('RPUSH', KEYS[2], unpack(entries)) end
end

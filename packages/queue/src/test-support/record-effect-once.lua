--[[
  The effect of a test handler, made exactly-once: the idempotency marker and the effect are written
  in one atomic step, which is the contract handlers follow (see HandlerContext.idempotencyKey).

  KEYS[1]  set of idempotency keys whose effect is applied
  KEYS[2]  hash: idempotency key -> times its effect was applied (must end at 1)
  KEYS[3]  counter of all effects applied (the "business" total)
  ARGV[1]  idempotency key

  Returns 1 when the effect was applied now, 0 when it had been applied before.
]]
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('INCR', KEYS[3])
return 1

-- Releases a slot hold only if the saga asking still owns it, so a late compensation cannot drop a hold
-- that expired and was taken by another booking.
-- KEYS[1]: the hold key
-- ARGV[1]: the owner (saga id) that took the hold
-- Returns 1 when the hold was released, 0 when someone else holds it or it is gone.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

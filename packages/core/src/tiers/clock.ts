let cached = 0
let fresh = false
const expire = () => {
  fresh = false
}

/**
 * Milliseconds since the epoch, read once per event-loop turn: an L1 hit is a Map lookup, and `Date.now()`
 * would cost it a fifth of its time. Within one turn no I/O happens (no bus message, no Redis reply), so
 * the only thing a later reading could change is an expiry decision, by at most the turn's own length.
 * Writes (fills, `set`) read the exact time.
 */
export function turnNow(): number {
  if (fresh) return cached
  cached = Date.now()
  fresh = true
  setImmediate(expire)
  return cached
}

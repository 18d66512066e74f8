import type { Cache } from '../cache.js'
import { type Faults, faultsOf } from '../faults.js'
import type { CacheParts } from '../parts.js'
import type { L2Redis } from '../tiers/l2-redis.js'

/** Switches a deliberate defect on for one cache (tests only). */
export function injectFault(cache: Cache, fault: keyof Faults): void {
  faultsOf(cache)[fault] = true
}

/** The Redis tier of a cache, for tests that hold one of its calls to force an interleaving. */
export function redisTierOf(cache: Cache): L2Redis {
  const l2 = (cache as unknown as { parts: CacheParts }).parts.l2
  if (l2 === undefined) throw new Error('the cache has no Redis tier')
  return l2
}

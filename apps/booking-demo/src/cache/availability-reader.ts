import type { Cache } from '@cachesaga/core'
import type pg from 'pg'
import {
  type Availability,
  type AvailabilityQuery,
  loadAvailability,
} from '../availability/load-availability.js'
import { availabilityDayTag, availabilityKey, staffScope } from './availability-mapping.js'

/**
 * Where one read was answered: memory (`l1`), Redis (`l2`), the database (`database`, this read ran the
 * loader), or `shared` (it joined a concurrent read of the same key and got that read's answer).
 */
export type ReadTier = 'l1' | 'l2' | 'database' | 'shared'

interface AvailabilityRead {
  availability: Availability
  tier: ReadTier
  /** The cache generation the answer was filled under: equal for reads of one fill, new after any invalidation. */
  generation: string
  durationMs: number
}

/**
 * Reads availability through the cache. Entries carry the day's tag and live under the staff member's
 * scope, which is what bookings, calendar syncs and data edits invalidate. Booking decisions never read
 * through here: the cache only shows availability.
 */
export class AvailabilityReader {
  constructor(
    private readonly cache: Cache,
    private readonly pool: pg.Pool,
    private readonly tenantId: string,
  ) {}

  async read(query: AvailabilityQuery): Promise<AvailabilityRead> {
    const started = performance.now()
    let ranLoader = false
    const served = await this.cache.getOrSetWithInfo(
      availabilityKey(query.staffId, query.serviceId, query.date),
      () => {
        ranLoader = true
        return loadAvailability(this.pool, query)
      },
      {
        tags: [availabilityDayTag(query.staffId, query.date)],
        scope: staffScope(this.tenantId, query.staffId),
      },
    )
    // Concurrent misses of one key share one load: only the read whose loader ran hit the database.
    const tier = served.tier === 'loader' ? (ranLoader ? 'database' : 'shared') : served.tier
    return {
      availability: served.value,
      tier,
      generation: served.generation,
      durationMs: performance.now() - started,
    }
  }
}

import type { Cache } from '@cachesaga/core'
import type pg from 'pg'
import {
  type Availability,
  type AvailabilityQuery,
  loadAvailability,
} from '../availability/load-availability.js'
import { availabilityDayTag, staffScope } from './availability-targets.js'
import { type ReadTier, ReadTierProbe } from './read-tier.js'

/** Availability as cached: the computed day plus when it was read from PostgreSQL. */
interface CachedAvailability extends Availability {
  loadedAt: string
}

interface AvailabilityRead {
  availability: CachedAvailability
  tier: ReadTier
  durationMs: number
}

/**
 * Reads availability through the cache. Entries carry the day's tag and live under the staff member's
 * scope, which is what bookings, calendar syncs and data edits invalidate. Booking decisions never read
 * through here: the cache only shows availability.
 */
export class AvailabilityReader {
  private readonly probe: ReadTierProbe

  constructor(
    private readonly cache: Cache,
    private readonly pool: pg.Pool,
    private readonly tenantId: string,
  ) {
    this.probe = new ReadTierProbe(cache)
  }

  async read(query: AvailabilityQuery): Promise<AvailabilityRead> {
    const started = performance.now()
    const { value, tier } = await this.probe.track((loaded) =>
      this.cache.getOrSet<CachedAvailability>(
        `availability:${query.staffId}:${query.serviceId}:${query.date}`,
        async () => {
          loaded()
          const availability = await loadAvailability(this.pool, query)
          return { ...availability, loadedAt: new Date().toISOString() }
        },
        {
          tags: [availabilityDayTag(query.staffId, query.date)],
          scope: staffScope(this.tenantId, query.staffId),
        },
      ),
    )
    return { availability: value, tier, durationMs: performance.now() - started }
  }
}

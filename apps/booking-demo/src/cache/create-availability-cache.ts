import { type Cache, createCache } from '@cachesaga/core'
import { SCOPE_LEVELS } from './availability-targets.js'

/** The one cache every process of the app opens: same namespace and scope tree, so invalidations meet. */
export async function createAvailabilityCache(redisUrl: string): Promise<Cache> {
  const cache = createCache({ namespace: 'booking-demo', redis: redisUrl, scopeLevels: SCOPE_LEVELS })
  // L1 serves only once the bus subscription is confirmed; waiting here keeps the first reads honest.
  await cache.ready()
  return cache
}

import { openRedis, type RedisConnection } from '@cachesaga/common'
import { type Cache, createCache } from '@cachesaga/core'
import type pg from 'pg'
import { loadAvailability } from '../availability/load-availability.js'
import { SCOPE_LEVELS } from './availability-mapping.js'

/** The thresholds of the booking system this demo comes from (core's `health()` judges by them). */
const HEALTH = {
  hitRate: { degraded: 0.9, critical: 0.5 },
  p95: { degraded: '50ms', critical: '250ms' },
} as const

/**
 * The one cache every process of the app opens: same namespace and scope tree, so invalidations meet. Given the
 * database, its consistency checker can compare cached availability with what PostgreSQL says now.
 */
export async function createAvailabilityCache(
  redis: RedisConnection,
  options: { pool?: pg.Pool } = {},
): Promise<Cache> {
  // Core takes a URL or an ioredis client, which it duplicates as it is created: a cluster's node list becomes a
  // Cluster for core to copy, and is let go at once.
  const source = typeof redis === 'string' ? redis : openRedis(redis, { maxRetriesPerRequest: 2 })
  const cache = createCache({
    namespace: 'booking-demo',
    redis: source,
    scopeLevels: SCOPE_LEVELS,
    health: HEALTH,
  })
  if (typeof source !== 'string') source.disconnect()
  const { pool } = options
  if (pool !== undefined) {
    cache.checker.register({
      match: 'availability:*',
      load: (key) => {
        const [, staffId, serviceId, date] = key.split(':')
        return loadAvailability(pool, { staffId: staffId!, serviceId: serviceId!, date: date! })
      },
    })
  }
  // L1 serves only once the bus subscription is confirmed; waiting here keeps the first reads honest.
  await cache.ready()
  return cache
}

import { randomUUID } from 'node:crypto'
import type { InvalidationTarget } from '@cachesaga/core'
import { type Cache, createCache } from '@cachesaga/core'
import { afterEach } from 'vitest'
import type { SagaCache } from '../invalidation/saga-cache.js'
import type { SagaRedis } from './redis.js'

/** Real @cachesaga/core caches on the topology's Redis, each on its own namespace, closed after every test. */
export function useCaches(redis: SagaRedis): () => Promise<Cache> {
  const open: Cache[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((cache) => cache.close()))
  })
  return async () => {
    // core takes a URL or a client (which it duplicates): the URL of a node, the test's client of a cluster.
    const connection = typeof redis.connection === 'string' ? redis.connection : redis.client
    const cache = createCache({ namespace: `saga-${randomUUID().slice(0, 8)}`, redis: connection })
    open.push(cache)
    await cache.ready()
    return cache
  }
}

/**
 * A real cache with a fault switch, in the spirit of a chaos driver: with `fault` 'reject' (the default) invalidations
 * reject, with 'hang' they never settle (a cache whose Redis stopped answering), with undefined they go through.
 */
export class ChaosCache implements SagaCache {
  fault: 'reject' | 'hang' | undefined = 'reject'
  readonly attempts: InvalidationTarget[] = []

  constructor(private readonly cache: Cache) {}

  async invalidate(target: InvalidationTarget): Promise<{ ok: boolean }> {
    this.attempts.push(target)
    if (this.fault === 'reject') throw new Error('Redis connection lost during invalidation')
    if (this.fault === 'hang') return new Promise(() => {})
    return this.cache.invalidate(target)
  }
}

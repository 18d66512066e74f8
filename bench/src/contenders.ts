import { createCache } from '@cachesaga/core'
import {
  type ContenderCache,
  type ContenderOptions,
  createBentoCache,
  createCacheable,
  createCacheManager,
} from './peers.js'
import type { ContenderFactory } from './suites/cache-reads.js'

const TTL_MS = 10 * 60_000

/** cachesaga as every suite configures it; `create` may be another build's `createCache` (a `--core-baseline`). */
export function cachesagaFactory(create: typeof createCache = createCache): ContenderFactory {
  return (options) => createCachesaga(options, create)
}

function createCachesaga(
  options: ContenderOptions,
  create: typeof createCache = createCache,
): ContenderCache {
  const cache = create({
    namespace: options.namespace,
    redis: options.redisUrl,
    ttl: TTL_MS,
    // "No memory tier" is a one-entry L1 for every contender, so an L2 hit includes its promotion, as in real use.
    l1: { maxEntries: options.l1 ? 100_000 : 1 },
    ...(options.leases ? { lease: {} } : {}),
  })
  return {
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, loader) => cache.getOrSet(key, loader),
    delete: (key) => cache.delete(key),
    onRemoteInvalidation: (listener) => {
      cache.on('bus:message', listener)
    },
    tags: {
      set: (key, value, tags) => cache.set(key, value, { tags }),
      get: (key, tags) => cache.get(key, { tags }),
      invalidate: (tag) => cache.invalidate({ tags: [tag] }),
    },
    close: () => cache.close(),
  }
}

/** Every cache measured, by the name the tables show. */
export const CONTENDERS: Record<string, ContenderFactory> = {
  cachesaga: createCachesaga,
  BentoCache: createBentoCache,
  'cache-manager': createCacheManager,
}

/** The caches with tag invalidation, for the tag suite (cache-manager has none). */
export const TAGGING_CONTENDERS: Record<string, ContenderFactory> = {
  cachesaga: createCachesaga,
  BentoCache: createBentoCache,
  cacheable: createCacheable,
}

// The peers measured beside cachesaga. Each is configured as its README recommends for a two-tier
// (memory + Redis) cache, or Redis only where a measurement needs every read to reach Redis.
import { createKeyv as createKeyvRedis } from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { createCache as cacheManager } from 'cache-manager'
import { Cacheable, createKeyv as createKeyvMemory } from 'cacheable'
import { Redis } from 'ioredis'

/** The common surface every contender exposes to the suites. */
export interface ContenderCache {
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  getOrSet(key: string, loader: () => Promise<unknown>): Promise<unknown>
  delete(key: string): Promise<unknown>
  /** Calls `listener` when this instance applies an invalidation received from another instance. */
  onRemoteInvalidation?(listener: () => void): void
  /** Tagged writes and tag invalidation, where the library has them (tag measurements). */
  tags?: TagSupport
  close(): Promise<void>
}

export interface TagSupport {
  set(key: string, value: unknown, tags: string[]): Promise<unknown>
  /** A read of a key written with `tags`, as the library's users read one (with the tags where it takes them). */
  get(key: string, tags: string[]): Promise<unknown>
  invalidate(tag: string): Promise<unknown>
}

export interface ContenderOptions {
  redisUrl: string
  /** Prefix/namespace, so contenders never read each other's keys. */
  namespace: string
  /** A real memory tier, or a one-entry one so that every read of a cycling key set is an L2 hit. */
  l1: boolean
  /** Cross-instance bus, for propagation measurements. */
  bus?: boolean
  /** Cross-process load leases, where the library has them (stampede measurements). */
  leases?: boolean
}

const TTL_MS = 10 * 60_000

export function createBentoCache(options: ContenderOptions): ContenderCache {
  const connection = new Redis(options.redisUrl)
  let store = bentostore()
    .useL1Layer(memoryDriver({ maxItems: options.l1 ? 100_000 : 1 }))
    .useL2Layer(redisDriver({ connection }))
  // BentoCache's bus duplicates this connection and closes only its duplicates: we close it ourselves.
  const busConnection = options.bus ? new Redis(options.redisUrl) : undefined
  if (busConnection) store = store.useBus(redisBusDriver({ connection: busConnection }))
  const bento = new BentoCache({
    default: 'main',
    prefix: options.namespace,
    ttl: TTL_MS,
    stores: { main: store },
  })
  return {
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value }),
    getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader }),
    delete: (key) => bento.delete({ key }),
    close: async () => {
      await bento.disconnectAll()
      connection.disconnect()
      busConnection?.disconnect()
    },
    onRemoteInvalidation: (listener) => {
      bento.on('bus:message:received', listener)
    },
    tags: {
      set: (key, value, tags) => bento.set({ key, value, tags }),
      get: (key) => bento.get({ key }),
      invalidate: (tag) => bento.deleteByTag({ tags: [tag] }),
    },
  }
}

export function createCacheManager(options: ContenderOptions): ContenderCache {
  const redisStore = createKeyvRedis(options.redisUrl, { namespace: options.namespace })
  const stores = [createKeyvMemory({ lruSize: options.l1 ? 100_000 : 1 }), redisStore]
  const cache = cacheManager({ stores, ttl: TTL_MS })
  return {
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, loader) => cache.wrap(key, loader),
    delete: (key) => cache.del(key),
    close: async () => {
      await cache.disconnect()
    },
  }
}

/** cacheable with its tag service on, as its README shows: `new Cacheable({ secondary, tags: true })`. */
export function createCacheable(options: ContenderOptions): ContenderCache {
  const cache = new Cacheable({
    primary: createKeyvMemory({ lruSize: options.l1 ? 100_000 : 1 }),
    secondary: createKeyvRedis(options.redisUrl, { namespace: options.namespace }),
    ttl: TTL_MS,
    tags: true,
  })
  return {
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, loader) => cache.getOrSet(key, loader),
    delete: (key) => cache.delete(key),
    tags: {
      set: (key, value, tags) => cache.set(key, value, { tags }),
      get: (key) => cache.get(key),
      invalidate: (tag) => cache.tags.invalidateTag(tag),
    },
    close: () => cache.disconnect(),
  }
}

import { type RedisServer, type StartRedisOptions, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type Cache, type CacheOptions, createCache } from '../index.js'
import { freshNamespace } from './namespaces.js'

/** A test file's Redis: a server and an admin client for the file, caches closed after each test. */
export interface TestRedis {
  readonly server: RedisServer
  readonly admin: Redis
  /** The namespace of the caches made last. */
  readonly namespace: string
  /** `count` ready caches sharing a fresh namespace on this Redis (`redis` may be overridden, e.g. by a proxy URL). */
  caches(count: number, options?: Partial<CacheOptions>): Promise<Cache[]>
  /** One ready cache in a fresh namespace. */
  cache(options?: Partial<CacheOptions>): Promise<Cache>
  /** Closes `cache` after the test. */
  track<C extends Cache>(cache: C): C
  /** How many entries Redis holds for the namespace made last. */
  storedEntries(): Promise<number>
}

export function useTestRedis(options: StartRedisOptions = {}): TestRedis {
  let server: RedisServer | undefined
  let admin: Redis | undefined
  let namespace = ''
  const open: Cache[] = []
  beforeAll(async () => {
    server = await startRedis(options)
    admin = new Redis(server.url)
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((cache) => cache.close()))
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })
  const handle: TestRedis = {
    get server() {
      return server!
    },
    get admin() {
      return admin!
    },
    get namespace() {
      return namespace
    },
    async caches(count, overrides = {}) {
      namespace = freshNamespace('test')
      const made = Array.from({ length: count }, () =>
        // A generous command timeout: these tests are about behaviour, not about a loaded CI machine's latency.
        handle.track(createCache({ namespace, redis: server!.url, l2: { timeout: 2_000 }, ...overrides })),
      )
      await Promise.all(made.map((cache) => cache.ready()))
      return made
    },
    async cache(overrides = {}) {
      const [made] = await handle.caches(1, overrides)
      return made!
    },
    track(cache) {
      open.push(cache)
      return cache
    },
    async storedEntries() {
      const [, keys] = await admin!.scan('0', 'MATCH', `cs:{${namespace}}:e:*`, 'COUNT', 100_000)
      return keys.length
    },
  }
  return handle
}

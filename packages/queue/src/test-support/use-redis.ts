import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

/** Starts a private noeviction Redis for the enclosing suite, with one client; read the fields inside tests. */
export function useRedis(): { server: RedisServer; redis: Redis } {
  const handle = {} as { server: RedisServer; redis: Redis }
  beforeAll(async () => {
    // Always a private server: the suites assert on exact key contents that another suite must not share.
    handle.server = await startRedis({ args: ['--maxmemory-policy', 'noeviction'], allowExternal: false })
    handle.redis = new Redis(handle.server.url)
  })
  afterAll(async () => {
    handle.redis.disconnect()
    await handle.server.stop()
  })
  return handle
}

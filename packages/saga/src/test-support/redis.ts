import { randomUUID } from 'node:crypto'
import { type RedisServer, type StartRedisOptions, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

/**
 * A Redis server for one test file and a client on it. Every test should still use its own `freshPrefix()`, so
 * tests never see each other's sagas even when REDIS_URL points several files at one server.
 */
export function useRedis(options?: StartRedisOptions): { readonly redis: Redis; readonly url: string } {
  let server: RedisServer
  let client: Redis
  beforeAll(async () => {
    server = await startRedis(options)
    client = new Redis(server.url)
  })
  afterAll(async () => {
    client.disconnect()
    await server.stop()
  })
  return {
    get redis() {
      return client
    },
    get url() {
      return server.url
    },
  }
}

export const freshPrefix = () => `test:${randomUUID().slice(0, 8)}:`

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

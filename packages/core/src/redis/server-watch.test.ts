import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, type RedisRestart } from '../index.js'
import { eventually } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'

let server: RedisServer
let other: RedisServer

beforeAll(async () => {
  server = await startRedis({ allowExternal: false })
  other = await startRedis({ allowExternal: false })
})
afterAll(async () => {
  await server.stop()
  await other.stop()
})

async function watched(): Promise<{ cache: Cache; restarts: RedisRestart[]; drops: string[] }> {
  const cache = createCache({
    namespace: freshNamespace('restart'),
    redis: server.url,
    l2: { timeout: 200 },
    bus: { outageBound: 300 },
  })
  cache.on('error', () => {})
  const restarts: RedisRestart[] = []
  const drops: string[] = []
  cache.on('redis:restart', (event) => restarts.push(event))
  cache.on('l1:dropped', (event) => drops.push(event.reason))
  await cache.ready()
  return { cache, restarts, drops }
}

describe('a Redis restart or failover', () => {
  it('a killed and restarted server (new run_id) drops L1 and emits redis:restart', async () => {
    const { cache, restarts, drops } = await watched()
    try {
      await cache.getOrSet('k', () => 'before')
      const before = Date.now()
      server.kill()
      await server.restart()
      await eventually(() => restarts.length > 0, 'redis:restart after the restart')
      expect(restarts[0]).toMatchObject({ reason: 'run-id', previousRunId: expect.any(String) })
      expect(restarts[0]!.runId).not.toBe(restarts[0]!.previousRunId)
      expect(restarts[0]!.detectedAt).toBeGreaterThanOrEqual(before)
      expect(drops).toContain('redis-restart')
      await cache.ready()
      expect(await cache.getOrSet('k', () => 'after')).toBe('after')
    } finally {
      await cache.close()
    }
  })

  it('a primary that becomes a replica (role change, no reconnect) drops L1 and emits redis:restart', async () => {
    const { cache, restarts, drops } = await watched()
    const admin = new Redis(server.url)
    try {
      // Past one period of the watch, so it has seen the server as a primary.
      await new Promise((resolve) => setTimeout(resolve, 350))
      await admin.replicaof('127.0.0.1', String(other.port))
      await eventually(() => restarts.some((r) => r.reason === 'role'), 'redis:restart for the role change')
      expect(drops).toContain('redis-restart')
    } finally {
      await admin.replicaof('NO', 'ONE')
      admin.disconnect()
      await cache.close()
    }
  })
})

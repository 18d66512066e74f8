import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, type RedisRestart } from '../index.js'
import { eventually } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'

let server: RedisServer
let admin: Redis

beforeAll(async () => {
  server = await startRedis({ persistence: 'rdb' })
  admin = new Redis(server.url)
  admin.on('error', () => {})
})
afterAll(async () => {
  admin.disconnect()
  await server.stop()
})

/** The source of truth of the test: one row, and how often it was read. */
const truth = { version: 1 }
const load = async () => truth.version
const entry = { tags: ['booking:1'] }

describe('a Redis that comes back older than it was', () => {
  it('restarted from an older save: no instance reads a value it had invalidated, not even once', async () => {
    const namespace = freshNamespace('rollback')
    const caches: Cache[] = []
    const restarts: RedisRestart[][] = []
    for (let i = 0; i < 3; i++) {
      const cache = createCache({ namespace, redis: server.url, l2: { timeout: 200 } })
      cache.on('error', () => {})
      const seen: RedisRestart[] = []
      cache.on('redis:restart', (event) => seen.push(event))
      caches.push(cache)
      restarts.push(seen)
    }
    try {
      await Promise.all(caches.map((cache) => cache.ready()))
      for (const cache of caches) expect(await cache.getOrSet('slot', load, entry)).toBe(1)
      await server.save()
      // The booking commits and invalidates, by key on one instance and by tag on another.
      truth.version = 2
      await caches[0]!.invalidate({ keys: ['slot'] })
      await caches[1]!.invalidate({ tags: ['booking:1'] })
      for (const cache of caches)
        await eventually(async () => (await cache.getOrSet('slot', load, entry)) === 2, 'v2')

      // The crash: Redis comes back with the saved dataset, the v1 entry and its old generations together.
      await server.kill()
      const readsAfterCrash: number[] = []
      let reading = true
      const readers = caches.map(async (cache) => {
        while (reading) {
          readsAfterCrash.push(await cache.getOrSet('slot', load, entry))
          await new Promise((resolve) => setTimeout(resolve, 2))
        }
      })
      await server.restart()
      expect(await admin.exists(`cs:{${namespace}}:e:slot`)).toBe(1)
      await eventually(() => restarts.every((seen) => seen.length > 0), 'every instance noticed the restart')
      await new Promise((resolve) => setTimeout(resolve, 200))
      reading = false
      await Promise.all(readers)

      expect(readsAfterCrash.length).toBeGreaterThan(0)
      expect(readsAfterCrash.filter((version) => version !== 2)).toEqual([])
      for (const seen of restarts)
        expect(seen[0]).toMatchObject({ reason: 'run-id', runId: expect.any(String) })
      // One instance fenced the namespace under the new server; the others found it done.
      const runId = /run_id:(\w+)/.exec(await admin.info('server'))![1]
      expect(await admin.get(`cs:{${namespace}}:r`)).toBe(runId)
    } finally {
      await Promise.all(caches.map((cache) => cache.close()))
    }
  })

  it('an instance started after an unnoticed rollback fences it before its first read', async () => {
    const namespace = freshNamespace('late')
    const first = createCache({ namespace, redis: server.url })
    await first.ready()
    expect(await first.getOrSet('slot', load, entry)).toBe(truth.version)
    const stale = truth.version
    await server.save()
    truth.version++
    await first.invalidate({ tags: ['booking:1'] })
    await first.close()
    await server.kill()
    await server.restart()

    const late = createCache({ namespace, redis: server.url })
    const restarts: RedisRestart[] = []
    late.on('redis:restart', (event) => restarts.push(event))
    try {
      // No ready(): even the very first read waits for the server check.
      expect(await late.getOrSet('slot', load, entry)).not.toBe(stale)
      expect(restarts).toMatchObject([{ reason: 'run-id', previousRunId: expect.any(String) }])
    } finally {
      await late.close()
    }
  })
})

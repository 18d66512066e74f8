import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { createAvailabilityCache } from './availability-cache.js'
import { availabilityDayTag, staffScope } from './availability-mapping.js'
import { AvailabilityReader } from './availability-reader.js'

let db: TestDatabase
let server: RedisServer
beforeAll(async () => {
  db = await createTestDatabase('reader')
  await seedDemoData(db.pool)
  server = await startRedis({ allowExternal: false })
})
afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

const query = { staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment, date: '2026-12-07' }

describe('reading availability through the cache', () => {
  it('says which tier answered: the database, then memory, and Redis for another instance', async () => {
    const [one, two] = await Promise.all([
      createAvailabilityCache(server.url),
      createAvailabilityCache(server.url),
    ])
    try {
      const first = new AvailabilityReader(one, db.pool, demoIds.tenant)
      const second = new AvailabilityReader(two, db.pool, demoIds.tenant)
      const loaded = await first.read(query)
      expect(loaded.tier).toBe('database')
      expect(loaded.availability.slots).toHaveLength(7)
      expect((await first.read(query)).tier).toBe('l1')
      const fromRedis = await second.read(query)
      expect(fromRedis.tier).toBe('l2')
      expect(fromRedis.generation).toBe(loaded.generation)
      expect(fromRedis.availability).toEqual(loaded.availability)
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })

  it('tells concurrent reads apart: one loads, the others share its answer', async () => {
    const cache = await createAvailabilityCache(server.url)
    try {
      const reader = new AvailabilityReader(cache, db.pool, demoIds.tenant)
      const reads = await Promise.all([1, 2, 3].map(() => reader.read({ ...query, date: '2026-12-08' })))
      expect(reads.map((read) => read.tier).sort()).toEqual(['database', 'shared', 'shared'])
    } finally {
      await cache.close()
    }
  })

  it("is dropped by the day's tag and by the staff member's scope", async () => {
    const cache = await createAvailabilityCache(server.url)
    try {
      const reader = new AvailabilityReader(cache, db.pool, demoIds.tenant)
      const before = await reader.read(query)
      await cache.invalidate({ tags: [availabilityDayTag(query.staffId, query.date)] })
      const afterTag = await reader.read(query)
      expect(afterTag.tier).toBe('database')
      await cache.invalidate({ scopes: [staffScope(demoIds.tenant, query.staffId)] })
      const afterScope = await reader.read(query)
      expect(afterScope.tier).toBe('database')
      const hit = await reader.read(query)
      expect(hit.tier).toBe('l1')
      expect(hit.generation).toBe(afterScope.generation)
      expect(new Set([before.generation, afterTag.generation, afterScope.generation]).size).toBe(3)
    } finally {
      await cache.close()
    }
  })
})

import {
  type FaultProxy,
  type PostgresServer,
  type RedisServer,
  startFaultProxy,
  startPostgres,
  startRedis,
  type TestDatabase,
} from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'

let redis: RedisServer
let proxy: FaultProxy
let postgres: PostgresServer
let database: TestDatabase

beforeAll(async () => {
  redis = await startRedis() // or REDIS_URL, when set
  proxy = await startFaultProxy({ target: redis })
  postgres = await startPostgres() // or DATABASE_URL, when set
  database = await postgres.createDatabase('outage_example')
})

afterAll(async () => {
  await database.drop()
  await postgres.stop()
  await proxy.close()
  await redis.stop()
})

it('serves bookings from PostgreSQL while Redis is unreachable', async () => {
  const db = new pg.Client({ connectionString: database.url })
  await db.connect()
  await db.query('CREATE TABLE booking (id int PRIMARY KEY, slot text)')
  await db.query("INSERT INTO booking VALUES (1, '09:00')")

  const cache = new Redis(proxy.url, { commandTimeout: 200, maxRetriesPerRequest: 1 })
  cache.on('error', () => {}) // the outage below is on purpose
  await cache.set('booking:1', '09:00')

  proxy.blackhole(true)
  await expect(cache.get('booking:1')).rejects.toThrow(/timed out/)
  const { rows } = await db.query('SELECT slot FROM booking WHERE id = 1')
  expect(rows).toEqual([{ slot: '09:00' }])

  proxy.blackhole(false)
  proxy.resetAll() // drop the connection that still waits for the lost reply
  await expect.poll(() => cache.get('booking:1').catch(() => null)).toBe('09:00')

  cache.disconnect()
  await db.end()
})

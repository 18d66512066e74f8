import {
  eventually,
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '@cachesaga/testkit'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'

let redis: RedisServer
let cluster: RedisCluster

beforeAll(async () => {
  redis = await startRedis({
    persistence: 'aof',
    users: [
      {
        name: 'cache',
        password: 'cache-secret',
        rules: ['~cs:*', '+@read', '+@write', '-@dangerous', '+@connection'],
      },
    ],
  })
  cluster = await startRedisCluster({ replicas: 1 }) // 3 masters, 3 replicas
})

afterAll(async () => {
  await cluster.stop()
  await redis.stop()
})

it('brings an invalidated entry back when Redis rolls back to an older snapshot', async () => {
  const cache = new Redis(redis.urlFor('cache'), { maxRetriesPerRequest: 1 })
  cache.on('error', () => {}) // the restart below is on purpose
  await expect(cache.flushall()).rejects.toThrow(/NOPERM/) // the cache user's rights are narrow

  await cache.set('cs:booking:1', 'v1')
  const beforeInvalidation = await redis.snapshot()
  await cache.del('cs:booking:1')

  await redis.restart({ from: beforeInvalidation })
  await eventually('the cache client back on the restarted server', () => cache.ping())
  expect(await cache.get('cs:booking:1')).toBe('v1')
  cache.disconnect()
})

it('keeps a key readable through the failover of its master', async () => {
  const client = new Cluster([...cluster.nodes])
  await client.set('booking:2', '10:30')
  const master = await cluster.masterOf('booking:2')

  await master.kill()
  const replica = await cluster.failover(master) // FORCE, since the master is down
  expect(await cluster.masterOf('booking:2')).toBe(replica)
  expect(await client.get('booking:2')).toBe('10:30')

  await master.restart() // it comes back as a replica of the node that replaced it
  const { masters } = await cluster.waitUntilConsistent()
  expect(masters.find(({ node }) => node === replica)?.replicas).toEqual([master])
  client.disconnect()
})

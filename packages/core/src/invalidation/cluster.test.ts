import { type RedisCluster, startRedisCluster } from '@cachesaga/testkit'
import { Cluster } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, type CacheOptions, createCache } from '../index.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { slowLoaderAgainst } from '../test-support/races.js'

let cluster: RedisCluster
let client: Cluster
const open: Cache[] = []

beforeAll(async () => {
  cluster = await startRedisCluster()
  client = new Cluster([...cluster.nodes])
  await client.ping()
}, 90_000)
afterAll(async () => {
  client.disconnect()
  await cluster.stop()
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

async function caches(
  count: number,
  namespace = freshNamespace('cluster'),
  options: Partial<CacheOptions> = {},
) {
  const made = Array.from({ length: count }, () =>
    createCache({ namespace, redis: client, l2: { timeout: 2_000 }, ...options }),
  )
  open.push(...made)
  await Promise.all(made.map((cache) => cache.ready()))
  return made
}

/** The master that holds a namespace's hash slot (every key of the namespace lives there). */
async function masterOf(namespace: string): Promise<string> {
  const slot = (await client.cluster('KEYSLOT', `cs:{${namespace}}:e:x`)) as number
  return client.slots[slot]![0]!
}

describe('on a 3-master Redis Cluster', () => {
  it('the read and fill scripts work and an L2 hit is promoted', async () => {
    const [first, second] = await caches(2)
    let calls = 0
    expect(await first!.getOrSet('k', async () => ++calls, { tags: ['t'], scope: 'tenant:a/branch:1' })).toBe(
      1,
    )
    expect(await second!.getOrSet('k', async () => ++calls)).toBe(1)
    expect(calls).toBe(1)
  })

  it('the stale-set race is closed for keys, tags, scopes and patterns', async () => {
    const [reader, writer] = await caches(2)
    await slowLoaderAgainst(reader!, () => writer!.delete('by-key'), { key: 'by-key' })
    await slowLoaderAgainst(reader!, () => writer!.invalidate({ tags: ['staff:7'] }), {
      key: 'by-tag',
      options: { tags: ['staff:7'] },
    })
    await slowLoaderAgainst(reader!, () => writer!.invalidate({ scopes: ['tenant:acme'] }), {
      key: 'by-scope',
      options: { scope: 'tenant:acme/branch:3' },
    })
    await slowLoaderAgainst(reader!, () => writer!.invalidate({ patterns: ['by-pat*'] }), {
      key: 'by-pattern',
    })
  })

  it('a delete on one instance reaches the L1 of another over cluster pub/sub', async () => {
    const [reader, writer] = await caches(2)
    await reader!.getOrSet('k', () => 'old')
    const delivered = new Promise<void>((resolve) => reader!.on('bus:message', () => resolve()))
    await writer!.delete('k')
    await delivered
    expect(await reader!.getOrSet('k', () => 'new')).toBe('new')
  })

  it('tags, scopes and cached functions keep O(1) invalidation; patterns scan whichever master holds the namespace', async () => {
    const masters = new Map<string, string>()
    for (let i = 0; masters.size < 3 && i < 200; i++) {
      const namespace = freshNamespace('cluster-ns')
      const master = await masterOf(namespace)
      if (!masters.has(master)) masters.set(master, namespace)
    }
    expect(masters.size).toBe(3)
    for (const namespace of masters.values()) {
      const [cache] = await caches(1, namespace)
      const c = cache!
      const getSlots = c.wrap(async (staff: number) => `slots of ${staff}`, { name: 'getSlots' })
      await getSlots(7)
      for (const key of ['patch:1', 'patch:2', 'keep'])
        await c.getOrSet(key, () => key, { tags: ['t'], scope: 'tenant:x' })
      const dry = await c.invalidate({ patterns: ['patch:*'] }, { dryRun: true })
      expect(dry.patterns[0]!.matched).toBe(2)
      const report = await c.invalidate({ patterns: ['patch:*'], queries: [{ name: 'getSlots' }] })
      expect(report.removed).toBe(2)
      expect(await c.getOrSet('patch:1', () => 'reloaded')).toBe('reloaded')
      expect(await c.getOrSet('keep', () => 'reloaded', { tags: ['t'], scope: 'tenant:x' })).toBe('keep')
      const bump = await c.invalidate({ tags: ['t'] })
      expect(bump.removed).toBe(0)
      expect(await c.getOrSet('keep', () => 'reloaded', { tags: ['t'] })).toBe('reloaded')
      expect(await getSlots(7)).toBe('slots of 7')
      await c.clear({ token: await c.requestClearToken() })
    }
  })
})

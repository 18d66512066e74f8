import { describe, expect, it } from 'vitest'
import { gate } from '../test-support/gates.js'
import { slowLoaderAgainst } from '../test-support/races.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()
const caches = redis.caches
const storedEntries = redis.storedEntries

describe('a fill whose loader started before the invalidation cannot land, for every strategy', () => {
  it('slow loader vs tag bump', async () => {
    const [reader, writer] = await caches(2)
    await slowLoaderAgainst(reader!, () => writer!.invalidate({ tags: ['staff:7'] }), {
      options: { tags: ['staff:7'] },
      storedEntries,
    })
  })

  it('slow loader vs pattern invalidation', async () => {
    const [reader, writer] = await caches(2)
    await slowLoaderAgainst(reader!, () => writer!.invalidate({ patterns: ['availability:*'] }), {
      storedEntries,
    })
  })

  it('slow loader vs scope invalidation of an ancestor', async () => {
    const [reader, writer] = await caches(2)
    await slowLoaderAgainst(reader!, () => writer!.invalidate({ scopes: ['tenant:acme'] }), {
      options: { scope: 'tenant:acme/branch:3' },
      storedEntries,
    })
  })

  it('slow loader vs node-only scope invalidation', async () => {
    const [cache] = await caches(1)
    await slowLoaderAgainst(
      cache!,
      () => cache!.invalidate({ scopes: [{ scope: 'tenant:acme/branch:3', descendants: false }] }),
      { options: { scope: 'tenant:acme/branch:3' }, storedEntries },
    )
  })

  it('slow loader vs emergency clear', async () => {
    const [cache] = await caches(1)
    await slowLoaderAgainst(cache!, async () => cache!.clear({ token: await cache!.requestClearToken() }), {
      storedEntries,
    })
  })

  it('slow cached function vs invalidation by name', async () => {
    const [cache] = await caches(1)
    const loaderStarted = gate()
    const loaderMayReturn = gate()
    let version = 'old'
    const getAvailability = cache!.wrap(
      async (staff: number) => {
        const read = `${staff}:${version}`
        loaderStarted.open()
        await loaderMayReturn.promise
        return read
      },
      { name: 'getAvailability' },
    )
    const slow = getAvailability(7)
    await loaderStarted.promise
    version = 'new'
    await cache!.invalidate({ queries: [{ name: 'getAvailability' }] })
    loaderMayReturn.open()
    expect(await slow).toBe('7:old')
    expect(await storedEntries()).toBe(0)
    expect(await getAvailability(7)).toBe('7:new')
  })

  it('background refresh vs tag invalidation', async () => {
    const [cache] = await caches(1, { ttl: 200, refreshAhead: 0.1 })
    await cache!.getOrSet('k', () => 'v1', { tags: ['t'] })
    await new Promise((resolve) => setTimeout(resolve, 30))
    const refreshStarted = gate()
    const refreshMayReturn = gate()
    const rejected = new Promise<boolean>((resolve) =>
      cache!.on('fill-rejected-stale', (e) => resolve(e.background)),
    )
    const served = await cache!.getOrSet(
      'k',
      async () => {
        refreshStarted.open()
        await refreshMayReturn.promise
        return 'refreshed from old data'
      },
      { tags: ['t'] },
    )
    expect(served).toBe('v1')
    await refreshStarted.promise
    await cache!.invalidate({ tags: ['t'] })
    refreshMayReturn.open()
    expect(await rejected).toBe(true)
    expect(await cache!.getOrSet('k', () => 'v2', { tags: ['t'] })).toBe('v2')
  })

  it('a late bus message about an older invalidation only drops L1; the newer fill is still served from L2', async () => {
    const [cache] = await caches(1)
    await cache!.getOrSet('k', () => 'newer fill')
    const delivered = new Promise<void>((resolve) => cache!.on('bus:message', () => resolve()))
    await redis.admin.publish(
      `cs:{${redis.namespace}}:bus`,
      JSON.stringify({ v: 1, from: 'late-sender', seq: 1, keys: ['k'] }),
    )
    await delivered
    const tiers: string[] = []
    cache!.on('hit', (event) => tiers.push(event.tier))
    expect(await cache!.getOrSet('k', () => 'must not load')).toBe('newer fill')
    expect(tiers).toEqual(['l2'])
  })
})

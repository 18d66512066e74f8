import { describe, expect, it } from 'vitest'
import { createCache } from '../index.js'
import { eventually, gate } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { slowLoaderAgainst } from '../test-support/races.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()
const caches = redis.caches
const entryCount = redis.storedEntries

describe('the stale-set race: a fill whose loader started before an invalidation is a no-op', () => {
  it('a slow loader that read old data cannot refill L2 or L1 after delete resolves', async () => {
    const [cache] = await caches(1)
    await slowLoaderAgainst(cache!, () => cache!.delete('availability:7'), { storedEntries: entryCount })
  })

  it('the same holds when the delete runs on another instance', async () => {
    const [reader, writer] = await caches(2)
    await slowLoaderAgainst(reader!, () => writer!.delete('availability:7'), { storedEntries: entryCount })
  })

  it('in memory-only mode the local invalidation epoch keeps L1 clean', async () => {
    const cache = redis.track(createCache({ namespace: freshNamespace('memory'), redis: false }))
    await slowLoaderAgainst(cache, () => cache.delete('availability:7'))
  })

  it('a call that starts after the delete does not join the old in-flight load', async () => {
    const [cache] = await caches(1)
    const loaderStarted = gate()
    const loaderMayReturn = gate()
    const old = cache!.getOrSet('k', async () => {
      loaderStarted.open()
      await loaderMayReturn.promise
      return 'old'
    })
    await loaderStarted.promise
    await cache!.delete('k')
    const fresh = cache!.getOrSet('k', async () => 'new')
    loaderMayReturn.open()
    expect(await old).toBe('old')
    expect(await fresh).toBe('new')
  })

  it('set() wins over an older fill still in flight', async () => {
    const [cache] = await caches(1)
    const loaderMayReturn = gate()
    const read = cache!.getOrSet('k', async () => {
      await loaderMayReturn.promise
      return 'loaded before the write'
    })
    await cache!.set('k', 'written by the app')
    loaderMayReturn.open()
    await read
    expect(await cache!.get('k')).toBe('written by the app')
  })

  it('a background refresh-ahead cannot refill after an invalidation', async () => {
    const [cache] = await caches(1, { ttl: 200, refreshAhead: 0.1 })
    await cache!.getOrSet('k', () => 'v1')
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 25))
      return true
    }, 'past the refresh point')
    const refreshStarted = gate()
    const refreshMayReturn = gate()
    const rejected = new Promise<boolean>((resolve) =>
      cache!.on('fill-rejected-stale', (event) => resolve(event.background)),
    )
    const served = await cache!.getOrSet('k', async () => {
      refreshStarted.open()
      await refreshMayReturn.promise
      return 'refreshed from old data'
    })
    expect(served).toBe('v1')
    await refreshStarted.promise
    await cache!.delete('k')
    refreshMayReturn.open()
    expect(await rejected).toBe(true)
    expect(await cache!.get('k')).toBeUndefined()
    expect(await entryCount()).toBe(0)
  })

  it('a loader that outlived its soft timeout cannot land after an invalidation', async () => {
    const [cache] = await caches(1, { ttl: 30, grace: '1m', timeouts: { soft: 20 }, l1: { maxAge: 1 } })
    await cache!.getOrSet('k', () => 'v1')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const loaderMayReturn = gate()
    const rejected = new Promise<string>((resolve) =>
      cache!.on('fill-rejected-stale', (event) => resolve(event.key)),
    )
    // Past its TTL: the soft timeout answers the grace value while the loader keeps running.
    expect(
      await cache!.getOrSet('k', async () => {
        await loaderMayReturn.promise
        return 'v2 from old data'
      }),
    ).toBe('v1')
    await cache!.delete('k')
    loaderMayReturn.open()
    expect(await rejected).toBe('k')
    expect(await cache!.getOrSet('k', () => 'v3')).toBe('v3')
  })

  it('an L2 answer that raced an invalidation is not promoted into L1', async () => {
    const [writer, reader] = await caches(2)
    await writer!.getOrSet('k', () => 'old')
    const read = reader!.get('k')
    // Queued behind the read's batch (see ReadBatcher): its MGET is on the wire before the invalidation, and
    // answered after the invalidation has moved the key's local epoch.
    const invalidated = new Promise<unknown>((resolve) =>
      process.nextTick(() => resolve(reader!.invalidate({ keys: ['k'] }))),
    )
    expect(await read).toBe('old')
    await invalidated
    expect(await reader!.get('k')).toBeUndefined()
  })
})

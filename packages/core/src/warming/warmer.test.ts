import { describe, expect, it } from 'vitest'
import { gate } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

/**
 * Resolves once the clock has moved past now: entries just written are then past any tiny fraction of
 * their TTL (within one millisecond they would not be, and the sweep would rightly skip them).
 */
async function clockMoves(): Promise<void> {
  const written = Date.now()
  while (Date.now() <= written + 1) await new Promise((resolve) => setTimeout(resolve, 1))
}

/** A loader that records how many calls are in flight at once, each held until the next tick. */
function inFlightCounter() {
  let current = 0
  let max = 0
  return {
    get max() {
      return max
    },
    load: async (key: string) => {
      current++
      max = Math.max(max, current)
      await new Promise((resolve) => setTimeout(resolve, 5))
      current--
      return { key }
    },
  }
}

describe('warming', () => {
  it('warmOnStartup fills every registered key, highest priority first, and skips what is cached', async () => {
    const cache = await redis.cache()
    const order: string[] = []
    const loader = (key: string) => {
      order.push(key)
      return key
    }
    cache.warmer
      .register('services', { keys: ['service:1', 'service:2'], loader })
      .register('staff', { keys: ['staff:1'], loader, priority: 10 })
    await cache.getOrSet('service:2', () => 'already')
    const reports = await cache.warmer.warmOnStartup()
    expect(order).toEqual(['staff:1', 'service:1'])
    expect(reports).toEqual([
      { name: 'staff', keys: 1, loaded: 1, cached: 0, failed: 0 },
      { name: 'services', keys: 2, loaded: 1, cached: 1, failed: 0 },
    ])
    expect(await redis.storedEntries()).toBe(3)
  })

  it('per-tenant batch warming calls the producer per subject and keeps at most 5 loaders in flight', async () => {
    const cache = await redis.cache()
    const loads = inFlightCounter()
    cache.warmer.register('availability', {
      producer: (tenant) => Array.from({ length: 20 }, (_, i) => `availability:${tenant}:${i}`),
      loader: loads.load,
    })
    const [report] = await cache.warmer.warm(['availability'], { subjects: ['acme', 'globex'] })
    expect(report).toMatchObject({ keys: 40, loaded: 40, failed: 0 })
    expect(loads.max).toBe(5)
    expect(await cache.get('availability:globex:19')).toEqual({ key: 'availability:globex:19' })
  })

  it('the concurrency limit is an option', async () => {
    const cache = await redis.cache()
    const loads = inFlightCounter()
    cache.warmer.register('users', {
      producer: async function* () {
        for (let i = 0; i < 12; i++) yield `user:${i}`
      },
      loader: loads.load,
    })
    await cache.warmer.warm(undefined, { concurrency: 2 })
    expect(loads.max).toBe(2)
  })

  it('a failing loader or an invalid produced key is counted, not thrown', async () => {
    const cache = await redis.cache()
    cache.warmer.register('broken', {
      producer: () => ['a', 'b', ''],
      loader: (key) => {
        if (key === 'a') throw new Error('db down')
        return 1
      },
    })
    expect(await cache.warmer.warm()).toEqual([{ name: 'broken', keys: 3, loaded: 1, cached: 0, failed: 2 }])
  })

  it('rejects a definition with both or neither of keys and producer, and an unknown name', async () => {
    const cache = await redis.cache()
    expect(() => cache.warmer.register('x', { loader: () => 1 })).toThrow(/warmer x\.keys: give exactly one/)
    await expect(cache.warmer.warm(['nope'])).rejects.toThrow(/no warmer named "nope"/)
  })
})

describe('isWarmupNeeded', () => {
  it('is true on an empty namespace, false once entries exist and the hit rate is fine', async () => {
    const cache = await redis.cache()
    expect(await cache.warmer.isWarmupNeeded()).toBe(true)
    await cache.getOrSet('k', () => 1)
    expect(await cache.warmer.isWarmupNeeded()).toBe(false)
  })

  it('is true when the hit rate over at least 100 calls is cold', async () => {
    const cache = await redis.cache()
    for (let i = 0; i < 100; i++) await cache.getOrSet(`cold:${i}`, () => i)
    expect(await cache.warmer.isWarmupNeeded()).toBe(true)
    expect(await cache.warmer.isWarmupNeeded({ minHitRate: 0 })).toBe(false)
  })
})

describe('background refresh', () => {
  it('reloads only entries of refresh patterns past the TTL fraction', async () => {
    const cache = await redis.cache()
    let version = 1
    cache.warmer.register('slots', {
      keys: [],
      refresh: 'slot:*',
      loader: () => version,
      options: { ttl: 60_000 },
    })
    await cache.getOrSet('slot:1', () => version, { ttl: 60_000 })
    await cache.getOrSet('other:1', () => version, { ttl: 60_000 })
    version = 2
    await clockMoves()
    expect(await cache.warmer.refresh()).toEqual({ scanned: 1, refreshed: 0, rejected: 0, failed: 0 })
    // Every entry is past a tiny fraction of its TTL.
    expect(await cache.warmer.refresh({ fraction: 0.000_001 })).toEqual({
      scanned: 1,
      refreshed: 1,
      rejected: 0,
      failed: 0,
    })
    expect(await cache.get('slot:1')).toBe(2)
    expect(await cache.get('other:1')).toBe(1)
  })

  it('a refresh racing an invalidation cannot resurrect the old value', async () => {
    const [cache, writer] = await redis.caches(2)
    let row = 'old'
    const loaded = gate()
    const release = gate()
    cache!.warmer.register('slots', {
      keys: [],
      refresh: 'slot:*',
      loader: async () => {
        const read = row
        loaded.open()
        await release.promise
        return read
      },
    })
    await cache!.getOrSet('slot:1', () => row)
    await clockMoves()
    const sweep = cache!.warmer.refresh({ fraction: 0.000_001 })
    await loaded.promise
    row = 'new'
    await writer!.invalidate({ keys: ['slot:1'] })
    release.open()
    expect(await sweep).toMatchObject({ refreshed: 0, rejected: 1 })
    expect(await redis.storedEntries()).toBe(0)
    expect(await cache!.getOrSet('slot:1', () => row)).toBe('new')
  })

  it('keeps at most 3 reloads in flight by default', async () => {
    const cache = await redis.cache()
    const loads = inFlightCounter()
    cache.warmer.register('slots', { keys: [], refresh: 'slot:*', loader: loads.load })
    for (let i = 0; i < 10; i++) await cache.getOrSet(`slot:${i}`, () => i)
    await clockMoves()
    expect(await cache.warmer.refresh({ fraction: 0.000_001 })).toEqual({
      scanned: 10,
      refreshed: 10,
      rejected: 0,
      failed: 0,
    })
    expect(loads.max).toBe(3)
  })
})

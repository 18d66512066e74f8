import { describe, expect, it } from 'vitest'
import { type Cache, CacheError, createCache } from './index.js'
import { useTestRedis } from './test-support/test-redis.js'

const redis = useTestRedis()

const cacheOnRedis = redis.cache

describe('options', () => {
  it('a bad option fails at once with an error naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ namespace: 'a b', redis: false }, /^namespace: /],
      [{ namespace: 'ok', redis: false, ttl: '5 minutes' }, /^ttl: expected a duration/],
      [{ namespace: 'ok', redis: false, l1: { maxEntries: 0 } }, /^l1\.maxEntries: /],
      [{ namespace: 'ok', redis: false, l2: { breaker: { openFor: 'soon' } } }, /^l2\.breaker\.openFor: /],
      [{ namespace: 'ok', redis: false, refreshAhead: 2 }, /^refreshAhead: /],
      [{ namespace: 'ok', redis: 'http://localhost' }, /^redis: /],
      [{ namespace: 'ok', redis: false, colour: 'blue' }, /^options: .*colour/],
    ]
    for (const [options, message] of cases) {
      const attempt = () => createCache(options as never)
      expect(attempt).toThrow(CacheError)
      expect(attempt).toThrow(message)
    }
  })

  it('a bad key or per-call option rejects with an error naming it', async () => {
    const cache = createCache({ namespace: 'memory-only', redis: false })
    await expect(cache.getOrSet('', () => 1)).rejects.toMatchObject({ code: 'CS_ERR_INVALID_KEY' })
    await expect(cache.get('x'.repeat(1025))).rejects.toMatchObject({ code: 'CS_ERR_INVALID_KEY' })
    await expect(cache.getOrSet('k', () => 1, { ttl: 'later' })).rejects.toThrow(/^options\.ttl: /)
    await expect(cache.getOrSet('k', () => 1, { tags: [''] })).rejects.toThrow(/^options\.tags: /)
    await cache.close()
  })
})

describe('tiers and promotion', () => {
  it('a loader result fills L2 then L1; the next call is an L1 hit', async () => {
    const cache = await cacheOnRedis()
    let calls = 0
    const load = async () => {
      calls++
      return { staff: 7, free: ['09:00'] }
    }
    expect(await cache.getOrSet('slots:7', load)).toEqual({ staff: 7, free: ['09:00'] })
    expect(await cache.getOrSet('slots:7', load)).toEqual({ staff: 7, free: ['09:00'] })
    expect(calls).toBe(1)
    const stats = cache.stats()
    expect(stats.loader.calls).toBe(1)
    expect(stats.l1.hits).toBe(1)
    expect(stats.l2.misses).toBe(1)
    expect(stats.fills).toBe(1)
  })

  it('an L2 hit fills L1 of another instance without calling its loader', async () => {
    const [first, second] = (await redis.caches(2)) as [Cache, Cache]
    await first.getOrSet('k', () => 'from-db')
    const hits: string[] = []
    second.on('hit', ({ tier }) => hits.push(tier))
    expect(await second.getOrSet('k', () => 'never')).toBe('from-db')
    expect(await second.getOrSet('k', () => 'never')).toBe('from-db')
    expect(hits).toEqual(['l2', 'l1'])
  })

  it('get answers fresh values only; set and delete reach both tiers', async () => {
    const cache = await cacheOnRedis()
    expect(await cache.get('absent')).toBeUndefined()
    await cache.set('k', 42, { ttl: '1m' })
    expect(await cache.get('k')).toBe(42)
    expect(await redis.storedEntries()).toBe(1)
    await cache.delete('k')
    expect(await cache.get('k')).toBeUndefined()
    expect(await redis.storedEntries()).toBe(0)
    expect(await cache.getOrSet('k', () => 43)).toBe(43)
  })

  it('an entry expires from L2 at its TTL and is then reloaded', async () => {
    const cache = await cacheOnRedis({ ttl: 50, l1: { maxAge: 10 } })
    let version = 0
    const load = () => ++version
    expect(await cache.getOrSet('k', load)).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await cache.getOrSet('k', load)).toBe(2)
  })

  it('memory-only mode caches in L1 and honours delete', async () => {
    const cache = createCache({ namespace: 'memory', redis: false })
    let calls = 0
    expect(await cache.getOrSet('k', () => ++calls)).toBe(1)
    expect(await cache.getOrSet('k', () => ++calls)).toBe(1)
    await cache.delete('k')
    expect(await cache.getOrSet('k', () => ++calls)).toBe(2)
    await cache.close()
  })

  it('memory-only mode applies every invalidation strategy to L1', async () => {
    const cache = redis.track(createCache({ namespace: 'memory-strategies', redis: false }))
    const getSlots = cache.wrap(async (staff: number) => `slots ${staff}`, { name: 'getSlots' })
    const entries: Record<string, Parameters<Cache['getOrSet']>[2]> = {
      'by-tag': { tags: ['staff:7'] },
      'by-scope': { scope: 'tenant:acme/branch:3' },
      'patch:1': {},
      kept: { tags: ['staff:8'], scope: 'tenant:acme/branch:4' },
    }
    for (const [key, options] of Object.entries(entries)) await cache.getOrSet(key, () => 'cached', options)
    await getSlots(7)
    const report = await cache.invalidate({
      tags: ['staff:7'],
      scopes: ['tenant:acme/branch:3'],
      patterns: ['patch:*'],
      queries: [{ name: 'getSlots' }],
    })
    expect(report.patterns).toEqual([{ pattern: 'patch:*', matched: 1, sample: ['patch:1'] }])
    const still: string[] = []
    for (const [key, options] of Object.entries(entries)) {
      if ((await cache.getOrSet(key, () => 'reloaded', options)) === 'cached') still.push(key)
    }
    expect(still).toEqual(['kept'])
    let reloaded = false
    await cache.wrap(
      async (_staff: number) => {
        reloaded = true
        return 'x'
      },
      { name: 'getSlots' },
    )(7)
    expect(reloaded).toBe(true)
  })

  it('reports latency percentiles for calls past L1', async () => {
    const cache = await cacheOnRedis()
    for (let i = 0; i < 20; i++) await cache.getOrSet(`k${i}`, () => i)
    const { latencyMs } = cache.stats()
    expect(latencyMs.count).toBe(20)
    expect(latencyMs.p50).toBeGreaterThan(0)
    expect(latencyMs.p99).toBeGreaterThanOrEqual(latencyMs.p50)
    expect(latencyMs.max).toBeGreaterThanOrEqual(latencyMs.p99)
  })
})

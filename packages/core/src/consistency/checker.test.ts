import { describe, expect, it } from 'vitest'
import type { Cache } from '../index.js'
import { injectFault } from '../test-support/faults.js'
import { gate } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

/** A source of truth the verifiers read: a plain map standing in for the database. */
function sourceOfTruth(initial: Record<string, unknown>) {
  const rows = new Map(Object.entries(initial))
  return {
    rows,
    load: (key: string) => rows.get(key) ?? null,
    verifier: { match: 'slot:*', load: (key: string) => rows.get(key) ?? null },
  }
}

async function fillEverywhere(caches: Cache[], source: ReturnType<typeof sourceOfTruth>, keys: string[]) {
  for (const cache of caches)
    for (const key of keys) await cache.getOrSet(key, () => source.load(key), { tags: ['staff:7'] })
}

describe('a healthy cache', () => {
  it('reports 100% consistency at every level after writes that invalidate correctly', async () => {
    const source = sourceOfTruth({ 'slot:1': { free: 3 }, 'slot:2': { free: 1 }, 'slot:3': { free: 0 } })
    const caches = await redis.caches(2)
    const [a, b] = caches as [Cache, Cache]
    a.checker.register({ ...source.verifier, external: (key) => source.load(key) })
    await fillEverywhere(caches, source, ['slot:1', 'slot:2', 'slot:3'])
    source.rows.set('slot:1', { free: 2 })
    await a.invalidate({ keys: ['slot:1'] })
    source.rows.set('slot:2', { free: 0 })
    const dropped = new Promise<void>((resolve) => b.on('bus:message', () => resolve()))
    await a.invalidate({ tags: ['staff:7'] })
    await dropped
    await fillEverywhere(caches, source, ['slot:1', 'slot:2', 'slot:3'])

    for (const level of ['light', 'medium', 'heavy'] as const) {
      const report = await a.checker.check({ level })
      expect(report.inconsistencies).toEqual([])
      expect(report.consistencyPercent).toBe(100)
      expect(report.stalenessScore).toBe(0)
      expect(report.recommendations).toEqual([])
      expect(report.sampled).toBe(3)
    }
    // light: 3 Redis entries; medium: plus 3 L1 copies on each of 2 instances; heavy: plus 3 source records.
    expect(a.checker.lastReport?.checked).toBe(12)
  })
})

describe('the checker reports each injected fault in its first run', () => {
  it('a skipped L1 delete leaves the invalidating instance serving the old value: medium finds it in that L1', async () => {
    const source = sourceOfTruth({ 'slot:1': { free: 3 } })
    const [a, b] = (await redis.caches(2)) as [Cache, Cache]
    b.checker.register(source.verifier)
    await a.getOrSet('slot:1', () => source.load('slot:1'))
    injectFault(a, 'skipL1Delete')
    source.rows.set('slot:1', { free: 2 })
    await a.invalidate({ keys: ['slot:1'] })
    expect(await a.getOrSet('slot:1', () => source.load('slot:1'))).toEqual({ free: 3 })

    const report = await b.checker.check({ level: 'medium' })
    expect(report.inconsistencies).toEqual([
      { key: 'slot:1', tier: 'l1', instance: a.instanceId, servedForMs: expect.any(Number) },
    ])
    expect(report.consistencyPercent).toBeLessThan(100)
    expect(report.stalenessScore).toBeGreaterThan(0)
    expect(report.recommendations.join(' ')).toMatch(/L1 copies/)
  })

  it('a dropped bus message leaves another instance serving the old value: medium finds it in that L1', async () => {
    const source = sourceOfTruth({ 'slot:1': { free: 3 } })
    const [a, b] = (await redis.caches(2)) as [Cache, Cache]
    a.checker.register(source.verifier)
    await b.getOrSet('slot:1', () => source.load('slot:1'))
    injectFault(b, 'dropBusMessages')
    source.rows.set('slot:1', { free: 2 })
    await a.invalidate({ keys: ['slot:1'] })

    // The probe follows the invalidation on the same connection, so b has seen (and dropped) it first.
    const report = await a.checker.check({ level: 'medium' })
    expect(report.inconsistencies).toEqual([
      { key: 'slot:1', tier: 'l1', instance: b.instanceId, servedForMs: expect.any(Number) },
    ])
    expect(await b.getOrSet('slot:1', () => source.load('slot:1'))).toEqual({ free: 3 })
  })

  it('a fill without the generation check puts old data into Redis: light finds it and heal removes it', async () => {
    const source = sourceOfTruth({ 'slot:1': { free: 3 } })
    const [reader, writer] = (await redis.caches(2)) as [Cache, Cache]
    reader.checker.register(source.verifier)
    injectFault(reader, 'fillWithoutGenerationCheck')
    const loaded = gate()
    const release = gate()
    const reading = reader.getOrSet('slot:1', async () => {
      const row = source.load('slot:1')
      loaded.open()
      await release.promise
      return row
    })
    await loaded.promise
    source.rows.set('slot:1', { free: 2 })
    await writer.invalidate({ keys: ['slot:1'] })
    release.open()
    await reading

    const report = await reader.checker.check({ level: 'light', heal: true })
    expect(report.inconsistencies).toEqual([
      { key: 'slot:1', tier: 'l2', instance: 'redis', servedForMs: expect.any(Number) },
    ])
    expect(report.healed).toEqual(['slot:1'])
    expect(report.recommendations.join(' ')).toMatch(/Redis holds values/)
    expect(await writer.getOrSet('slot:1', () => source.load('slot:1'))).toEqual({ free: 2 })
    expect((await reader.checker.check({ level: 'medium' })).inconsistencies).toEqual([])
  })

  it('a skipped tag bump leaves the tagged entry valid in Redis: light finds it', async () => {
    const source = sourceOfTruth({ 'slot:1': { free: 3 }, 'slot:2': { free: 5 } })
    const [a, b] = (await redis.caches(2)) as [Cache, Cache]
    b.checker.register(source.verifier)
    await fillEverywhere([a], source, ['slot:1', 'slot:2'])
    injectFault(a, 'skipTagBump')
    source.rows.set('slot:1', { free: 2 })
    await a.invalidate({ tags: ['staff:7'] })

    const report = await b.checker.check({ level: 'light' })
    expect(report.inconsistencies).toEqual([
      { key: 'slot:1', tier: 'l2', instance: 'redis', servedForMs: expect.any(Number) },
    ])
    expect(report.checked).toBe(2)
    expect(report.consistencyPercent).toBe(50)
  })
})

describe('heavy runs and coverage', () => {
  it('heavy compares the source of truth with the external provider', async () => {
    const source = sourceOfTruth({ 'slot:1': { free: 3 } })
    const cache = await redis.cache()
    cache.checker.register({ ...source.verifier, external: () => ({ free: 1 }) })
    await cache.getOrSet('slot:1', () => source.load('slot:1'))
    expect((await cache.checker.check({ level: 'medium' })).inconsistencies).toEqual([])
    const report = await cache.checker.check({ level: 'heavy' })
    expect(report.inconsistencies).toEqual([
      { key: 'slot:1', tier: 'source', instance: 'external', servedForMs: 0 },
    ])
  })

  it('counts sampled keys without a verifier and recommends registering one', async () => {
    const cache = await redis.cache()
    await cache.getOrSet('staff:7', () => ({ name: 'Ada' }))
    const report = await cache.checker.check()
    expect(report).toMatchObject({ sampled: 1, checked: 0, unverified: 1, consistencyPercent: 100 })
    expect(report.recommendations).toEqual([
      '1 sampled key(s) have no verifier: register one to have them checked.',
    ])
  })

  it('rejects a bad option or verifier naming the field', async () => {
    const cache = await redis.cache()
    expect(() => cache.checker.register({ match: '', load: () => 1 })).toThrow(/verifier\.match/)
    await expect(cache.checker.check({ level: 'deep' as 'light' })).rejects.toThrow(/options\.level/)
  })
})

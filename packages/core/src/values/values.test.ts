import superjson from 'superjson'
import { describe, expect, it } from 'vitest'
import { type Cache, CacheError, createCache } from '../index.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

/** The value from the loader, from L1, from L2 on another instance and from that instance's L1. */
async function everywhere<T>(a: Cache, b: Cache, key: string, value: T): Promise<unknown[]> {
  return [
    await a.getOrSet(key, () => value),
    await a.getOrSet(key, () => 'not again'),
    await b.getOrSet(key, () => 'not again'),
    await b.getOrSet(key, () => 'not again'),
  ]
}

describe('with superjson, the same value comes back from the loader, L1, L2 and other instances', () => {
  it('keeps a Date, a Map and a BigInt', async () => {
    const [a, b] = (await redis.caches(2, { serializer: superjson })) as [Cache, Cache]
    const booking = {
      at: new Date('2026-11-22T09:30:00Z'),
      seats: new Map([['A1', 10n ** 20n]]),
      tags: new Set(['vip']),
    }
    for (const copy of await everywhere(a, b, 'booking:1', booking)) {
      const value = copy as typeof booking
      expect(value.at).toBeInstanceOf(Date)
      expect(value.at.toISOString()).toBe('2026-11-22T09:30:00.000Z')
      expect(value.seats).toBeInstanceOf(Map)
      expect(value.seats.get('A1')).toBe(10n ** 20n)
      expect(value.tags).toEqual(new Set(['vip']))
    }
    await b.set('booking:2', booking)
    expect(((await a.get('booking:2')) as typeof booking).seats.get('A1')).toBe(10n ** 20n)
  })
})

describe('with JSON (the default)', () => {
  it('a BigInt is refused with CS_ERR_UNSERIALIZABLE naming the key and the path, at fill and at set, and counted', async () => {
    const [cache] = (await redis.caches(1)) as [Cache]
    let loads = 0
    const load = () => {
      loads++
      return { staff: 7, price: { cents: 1999n } }
    }
    const attempt = cache.getOrSet('price:7', load)
    await expect(attempt).rejects.toBeInstanceOf(CacheError)
    await expect(attempt).rejects.toMatchObject({
      code: 'CS_ERR_UNSERIALIZABLE',
      details: { key: 'price:7', path: 'price.cents', what: 'a BigInt' },
    })
    await expect(attempt).rejects.toThrow(
      /^value of "price:7" at price\.cents cannot be cached: it is a BigInt/,
    )
    await expect(cache.set('price:8', [1, new Map()])).rejects.toMatchObject({
      code: 'CS_ERR_UNSERIALIZABLE',
      details: { path: '1', what: 'a Map' },
    })
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    await expect(cache.set('loop', circular)).rejects.toMatchObject({ details: { path: 'self' } })
    expect(cache.stats().unserializable).toBe(3)
    expect(loads).toBe(1)
    expect(await redis.storedEntries()).toBe(0)
  })

  it('a Date comes back as its ISO string everywhere, to the loader’s caller too', async () => {
    const [a, b] = (await redis.caches(2)) as [Cache, Cache]
    const copies = await everywhere(a, b, 'opening', { at: new Date('2026-11-22T09:00:00Z') })
    expect(copies).toEqual(Array(4).fill({ at: '2026-11-22T09:00:00.000Z' }))
  })
})

describe('values handed out are read-only', () => {
  it('mutating what a read returned throws and changes nothing the next caller gets', async () => {
    const [a, b] = (await redis.caches(2)) as [Cache, Cache]
    const slots = { staff: 7, free: ['09:00', '09:30'] }
    const loaded = await a.getOrSet('slots:7', () => slots)
    slots.free.push('mutating the loader’s own object does not reach the cache')
    for (const copy of [loaded, await a.getOrSet('slots:7', () => slots), await b.get('slots:7')]) {
      const value = copy as typeof slots
      expect(() => value.free.push('10:00')).toThrow(TypeError)
      expect(() => {
        value.staff = 8
      }).toThrow(TypeError)
    }
    expect(await a.getOrSet('slots:7', () => slots)).toEqual({ staff: 7, free: ['09:00', '09:30'] })
  })

  it('a Map or a Date from superjson refuses changes too', async () => {
    const cache = redis.track(createCache({ namespace: 'frozen', redis: false, serializer: superjson }))
    const value = (await cache.getOrSet('k', () => ({ m: new Map([[1, 2]]), d: new Date(0) }))) as {
      m: Map<number, number>
      d: Date
    }
    expect(() => value.m.set(3, 4)).toThrow(/read-only/)
    expect(() => value.d.setFullYear(2000)).toThrow(/read-only/)
    expect(value.m.get(1)).toBe(2)
  })
})

import { describe, expect, it } from 'vitest'
import { CacheError } from '../index.js'
import { decodeEntry } from '../redis/entry-format.js'
import { gate } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

const cache = redis.cache

const pastTtl = () => new Promise((resolve) => setTimeout(resolve, 40))

describe('fail-safe', () => {
  it('serves the grace value when the loader throws, then backs off before calling it again', async () => {
    const c = await cache({ ttl: 20, grace: '1m', graceBackoff: '1m', l1: { maxAge: 5 } })
    await c.getOrSet('k', () => 'v1')
    await pastTtl()
    let calls = 0
    const failing = async (): Promise<string> => {
      calls++
      throw new Error('database down')
    }
    const reasons: string[] = []
    c.on('fail-safe', (event) => reasons.push(event.reason))
    expect(await c.getOrSet('k', failing)).toBe('v1')
    expect(await c.getOrSet('k', failing)).toBe('v1')
    expect(calls).toBe(1)
    expect(reasons).toEqual(['error'])
    expect(c.stats().failSafeServed).toBe(1)
  })

  it('without a grace value the loader error reaches the caller unchanged', async () => {
    const c = await cache({ ttl: 20 })
    const error = new Error('database down')
    await expect(
      c.getOrSet('k', () => {
        throw error
      }),
    ).rejects.toBe(error)
    expect(c.stats().loader.errors).toBe(1)
  })

  it('an invalidated value is never a grace fallback', async () => {
    const c = await cache({ ttl: 20, grace: '1m', l1: { maxAge: 5 } })
    await c.getOrSet('k', () => 'v1', { tags: ['staff:7'] })
    await pastTtl()
    await c.invalidate({ tags: ['staff:7'] })
    await expect(
      c.getOrSet('k', () => Promise.reject(new Error('database down')), { tags: ['staff:7'] }),
    ).rejects.toThrow('database down')
  })

  it('an L1 copy that Redis no longer holds is not a fallback (its invalidation may still be on the bus)', async () => {
    const c = await cache({ ttl: 20, grace: '1m' })
    await c.getOrSet('k', () => 'v1')
    await pastTtl()
    // As if another instance invalidated it and its bus message has not arrived yet.
    await redis.admin.del(`cs:{${redis.namespace}}:e:k`)
    await expect(c.getOrSet('k', () => Promise.reject(new Error('database down')))).rejects.toThrow(
      'database down',
    )
  })

  it('a soft timeout answers from grace while the loader finishes and fills in the background', async () => {
    const c = await cache({ ttl: 20, grace: '1m', timeouts: { soft: 10 }, l1: { maxAge: 5 } })
    await c.getOrSet('k', () => 'v1')
    await pastTtl()
    const loaderMayReturn = gate()
    const filled = new Promise<boolean>((resolve) => c.on('fill', (event) => resolve(event.background)))
    expect(
      await c.getOrSet('k', async () => {
        await loaderMayReturn.promise
        return 'v2'
      }),
    ).toBe('v1')
    loaderMayReturn.open()
    await filled
    // Read Redis directly: with a 20 ms TTL, a get on a loaded machine could already find it past its TTL.
    const stored = await redis.admin.get(`cs:{${redis.namespace}}:e:k`)
    expect(decodeEntry(stored!)!.data).toBe('"v2"')
    expect(c.stats().loader.softTimeouts).toBe(1)
  })

  it('a hard timeout rejects with CS_ERR_LOADER_HARD_TIMEOUT and aborts the loader signal', async () => {
    const c = await cache({ timeouts: { hard: 20 } })
    let aborted: Promise<void> | undefined
    const attempt = c.getOrSet('k', ({ signal }) => {
      aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve()))
      return new Promise<string>(() => {})
    })
    await expect(attempt).rejects.toBeInstanceOf(CacheError)
    await expect(attempt).rejects.toMatchObject({ code: 'CS_ERR_LOADER_HARD_TIMEOUT' })
    await aborted
    expect(c.stats().loader.hardTimeouts).toBe(1)
  })

  it('jitter spreads expiry times of entries filled together', async () => {
    const c = await cache({ ttl: '1m', jitter: '30s' })
    const expiries = new Set<number>()
    for (let i = 0; i < 20; i++) await c.getOrSet(`k${i}`, () => i)
    const [, keys] = await redis.admin.scan('0', 'MATCH', `cs:{${redis.namespace}}:e:*`, 'COUNT', 10_000)
    expect(keys).toHaveLength(20)
    for (const key of keys) {
      expiries.add(Math.round(decodeEntry((await redis.admin.get(key)) as string)!.expiresAt / 1000))
    }
    expect(expiries.size).toBeGreaterThan(5)
  })
})

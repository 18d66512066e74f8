import { describe, expect, it } from 'vitest'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

const cache = redis.cache

describe('refresh-ahead', () => {
  it('a hit past the refresh fraction of its TTL triggers exactly one background refresh', async () => {
    const c = await cache({ ttl: 200, refreshAhead: 0.2 })
    let calls = 0
    const load = async () => ++calls
    expect(await c.getOrSet('k', load)).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 60))
    const refreshed = new Promise<void>((resolve) => c.on('fill', () => resolve()))
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.getOrSet('k', load)))
    expect(answers.every((answer) => answer === 1)).toBe(true)
    await refreshed
    expect(calls).toBe(2)
    expect(await c.getOrSet('k', load)).toBe(2)
  })

  it('refreshAhead: 0 turns it off', async () => {
    const c = await cache({ ttl: 100, refreshAhead: 0 })
    let calls = 0
    await c.getOrSet('k', async () => ++calls)
    await new Promise((resolve) => setTimeout(resolve, 60))
    await c.getOrSet('k', async () => ++calls)
    expect(calls).toBe(1)
  })
})

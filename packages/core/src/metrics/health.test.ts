import { describe, expect, it } from 'vitest'
import { useTestRedis } from '../test-support/test-redis.js'
import { assessHealth, type HealthInputs } from './health.js'

const redis = useTestRedis()

/** For tests that judge the hit rate: a loaded shared test machine must not turn them degraded by latency. */
const latencyIgnored = { health: { p95: { degraded: '10s', critical: '20s' } } }

/** `hits` L1 hits and `misses` distinct misses on `cache`. */
async function traffic(cache: Awaited<ReturnType<typeof redis.cache>>, hits: number, misses: number) {
  await cache.getOrSet('hot', () => 1)
  for (let i = 0; i < hits; i++) await cache.getOrSet('hot', () => 1)
  for (let i = 0; i < misses - 1; i++) await cache.getOrSet(`cold:${i}`, () => i)
}

describe('cache.health()', () => {
  it('is healthy with a high hit rate, and reports Redis INFO, circuit and bus state', async () => {
    const cache = await redis.cache(latencyIgnored)
    await traffic(cache, 190, 10)
    const health = await cache.health()
    expect(health).toMatchObject({ status: 'healthy', reasons: [], calls: 200, hitRate: 0.95 })
    expect(health.circuit).toBe('closed')
    expect(health.bus.state).toBe('connected')
    expect(health.redis?.usedMemoryBytes).toBeGreaterThan(0)
    expect(health.redis?.keyspaceHits).toBeGreaterThanOrEqual(0)
    expect(health.lastConsistency).toBeNull()
  })

  it('is critical below the critical hit rate, degraded between the thresholds (which are options)', async () => {
    const cold = await redis.cache()
    await traffic(cold, 20, 100)
    expect((await cold.health()).status).toBe('critical')
    expect((await cold.health()).reasons[0]).toMatch(/hit rate 16\.7% is below 50%/)

    const strict = await redis.cache({ health: { hitRate: { degraded: 0.99 } } })
    await traffic(strict, 190, 10)
    const health = await strict.health()
    expect(health.status).toBe('degraded')
    expect(health.reasons).toEqual(['hit rate 95.0% is below 99%'])
  })

  it('is degraded when the last consistency check found inconsistent copies, and carries that report', async () => {
    const cache = await redis.cache()
    cache.checker.register({ match: 'slot:*', load: () => ({ free: 0 }) })
    await cache.getOrSet('slot:1', () => ({ free: 4 }))
    await cache.checker.check()
    const health = await cache.health()
    expect(health.status).toBe('degraded')
    expect(health.lastConsistency?.inconsistencies).toHaveLength(1)
  })

  it('judges no hit rate before 100 calls, so a cache just started is healthy', async () => {
    const cache = await redis.cache(latencyIgnored)
    await traffic(cache, 0, 5)
    expect(await cache.health()).toMatchObject({ status: 'healthy', hitRate: null, calls: 5 })
  })

  it('rejects a bad threshold naming the field', async () => {
    await expect(redis.cache({ health: { hitRate: { critical: 2 } } })).rejects.toThrow(
      /health\.hitRate\.critical/,
    )
  })
})

describe('assessHealth', () => {
  const inputs: HealthInputs = {
    hits: 95,
    calls: 100,
    p95Ms: 10,
    circuit: 'closed',
    bus: { state: 'connected', queued: 0, gaps: 0 },
    redis: null,
    redisError: undefined,
    lastConsistency: undefined,
  }
  const thresholds = { hitRate: { degraded: 0.9, critical: 0.5 }, p95Ms: { degraded: 50, critical: 500 } }

  it('grades p95 latency against both thresholds', () => {
    expect(assessHealth({ ...inputs, p95Ms: 49 }, thresholds).status).toBe('healthy')
    expect(assessHealth({ ...inputs, p95Ms: 50 }, thresholds).status).toBe('degraded')
    expect(assessHealth({ ...inputs, p95Ms: 500 }, thresholds).status).toBe('critical')
  })

  it('is critical when the circuit is open or Redis INFO failed, degraded when the bus is suspended', () => {
    expect(assessHealth({ ...inputs, circuit: 'open' }, thresholds).reasons).toEqual([
      'the Redis circuit breaker is open',
    ])
    expect(assessHealth({ ...inputs, redisError: 'timed out' }, thresholds).status).toBe('critical')
    const suspended = { state: 'suspended' as const, queued: 3, gaps: 0 }
    expect(assessHealth({ ...inputs, bus: suspended }, thresholds).status).toBe('degraded')
  })
})

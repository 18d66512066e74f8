import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { Cache } from '../index.js'
import { registerCacheMetrics } from '../prometheus.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

/** Parses Prometheus text exposition into `name{labels}` -> value, checking every sample line's shape. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`not an exposition line: ${line}`)
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]))
  }
  return samples
}

describe('Prometheus metrics', () => {
  it('a scrape shows hits and misses per tier, latency, invalidations, stale fills, bus lag, circuit, sagas and queues', async () => {
    const [a, b] = (await redis.caches(2)) as [Cache, Cache]
    const registry = new Registry()
    const metrics = registerCacheMetrics(b, {
      registry,
      sagaCounts: () => ({ running: 2, compensating: 1 }),
      queues: async () => [{ queue: 'booking', depth: 7, lagSeconds: 1.5 }],
    })
    await b.getOrSet('k', () => 1, { tags: ['staff:7'] })
    await b.getOrSet('k', () => 1)
    await b.getOrSet('k', () => 1)
    const delivered = new Promise<void>((resolve) => b.on('bus:message', () => resolve()))
    await a.invalidate({ tags: ['staff:7'], keys: ['x', 'y'] })
    await delivered
    await b.invalidate({ keys: ['k'] })
    // A fill whose loader raced an invalidation.
    await b.getOrSet('late', async () => {
      await a.invalidate({ keys: ['late'] })
      return 'old'
    })

    const samples = parseExposition(await registry.metrics())
    expect(samples.get('cachesaga_cache_hits_total{tier="l1"}')).toBe(2)
    expect(samples.get('cachesaga_cache_misses_total{tier="l2"}')).toBe(2)
    expect(samples.get('cachesaga_cache_latency_seconds_count')).toBe(2)
    expect(samples.get('cachesaga_cache_invalidations_total{kind="keys"}')).toBe(1)
    expect(samples.get('cachesaga_cache_fills_rejected_stale_total')).toBe(1)
    expect(samples.get('cachesaga_cache_bus_lag_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(samples.get('cachesaga_cache_bus_gaps_total')).toBe(0)
    expect(samples.get('cachesaga_cache_circuit_open')).toBe(0)
    expect(samples.get('cachesaga_sagas{state="compensating"}')).toBe(1)
    expect(samples.get('cachesaga_queue_depth{queue="booking"}')).toBe(7)
    expect(samples.get('cachesaga_queue_lag_seconds{queue="booking"}')).toBe(1.5)

    // Counters mirrored from stats keep counting across scrapes, without double counting.
    await b.getOrSet('k2', () => 2)
    await b.getOrSet('k2', () => 2)
    const again = parseExposition(await registry.metrics())
    expect(again.get('cachesaga_cache_hits_total{tier="l1"}')).toBe(3)
    metrics.stop()
  })
})

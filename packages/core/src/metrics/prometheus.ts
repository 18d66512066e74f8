import { Counter, register as defaultRegistry, Gauge, Histogram, type Registry } from 'prom-client'
import type { Cache } from '../cache.js'
import type { CacheEvents } from '../events.js'
import type { CacheStats } from './stats.js'

/** Options of `registerCacheMetrics`. */
export interface CacheMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global registry. */
  registry?: Registry
  /** Prefix of every metric name. Default `'cachesaga_'`. */
  prefix?: string
  /** Sagas per state, read at each scrape (e.g. from @cachesaga/saga's store); omitted: no saga gauge. */
  sagaCounts?: () => Promise<Record<string, number>> | Record<string, number>
  /** Depth (waiting + delayed jobs) and lag of each queue, read at each scrape (e.g. from @cachesaga/queue's QueueAdmin). */
  queues?: () => Promise<QueueFigures[]> | QueueFigures[]
}

export interface QueueFigures {
  queue: string
  depth: number
  /** How long the oldest waiting job has waited, in seconds. */
  lagSeconds: number
}

function perTier(l1: number, l2: number): [Record<string, string>, number][] {
  return [
    [{ tier: 'l1' }, l1],
    [{ tier: 'l2' }, l2],
  ]
}

/** Mirrors an ever-growing number read from `cache.stats()` into a Prometheus counter. */
function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: (stats: CacheStats) => [Record<string, string>, number][],
  stats: () => CacheStats,
): void {
  const seen = new Map<string, number>()
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, value] of read(stats())) {
        const id = JSON.stringify(labels)
        const delta = value - (seen.get(id) ?? 0)
        seen.set(id, value)
        if (delta > 0) this.inc(labels, delta)
      }
    },
  })
}

/**
 * Registers a cache's metrics: hits and misses per tier, latency histogram, invalidations by kind,
 * fills rejected as stale, bus lag and gaps, circuit state, and, through the callbacks, saga counts
 * by state and queue depth and lag (core depends on neither package). Returns `stop`, which
 * detaches the event listeners; the metrics stay registered until the registry is cleared.
 */
export function registerCacheMetrics(cache: Cache, options: CacheMetricsOptions = {}): { stop(): void } {
  const registry = options.registry ?? defaultRegistry
  const p = options.prefix ?? 'cachesaga_'
  const stats = () => cache.stats()
  const mirrored: [string, string, string[], (s: CacheStats) => [Record<string, string>, number][]][] = [
    ['cache_hits_total', 'Cache hits per tier.', ['tier'], (s) => perTier(s.l1.hits, s.l2.hits)],
    ['cache_misses_total', 'Cache misses per tier.', ['tier'], (s) => perTier(s.l1.misses, s.l2.misses)],
    [
      'cache_fills_rejected_stale_total',
      'Fills that were no-ops because an invalidation happened while their loader ran.',
      [],
      (s) => [[{}, s.fillsRejectedStale]],
    ],
    ['cache_bus_gaps_total', 'Gaps in a sender sequence (lost bus messages).', [], (s) => [[{}, s.bus.gaps]]],
    ['cache_l2_errors_total', 'Redis and bus failures the cache absorbed.', [], (s) => [[{}, s.l2.errors]]],
  ]
  for (const [name, help, labels, read] of mirrored)
    mirroredCounter(registry, `${p}${name}`, help, labels, read, stats)
  new Gauge({
    name: `${p}cache_circuit_open`,
    help: '1 while the Redis circuit breaker is open.',
    registers: [registry],
    collect() {
      this.set(stats().l2.circuitOpen ? 1 : 0)
    },
  })
  const latency = new Histogram({
    name: `${p}cache_latency_seconds`,
    help: 'Latency of getOrSet/get calls that went past L1.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const busLag = new Histogram({
    name: `${p}cache_bus_lag_seconds`,
    help: 'Time from an invalidation being published to another instance receiving it.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  })
  const invalidations = new Counter({
    name: `${p}cache_invalidations_total`,
    help: 'Invalidation items by kind (keys, tags, patterns, scopes, queries).',
    labelNames: ['kind'],
    registers: [registry],
  })
  if (options.sagaCounts !== undefined) {
    const read = options.sagaCounts
    new Gauge({
      name: `${p}sagas`,
      help: 'Sagas by state.',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        this.reset()
        for (const [state, count] of Object.entries(await read())) this.set({ state }, count)
      },
    })
  }
  if (options.queues !== undefined) {
    const read = options.queues
    let figures: Promise<QueueFigures[]> | undefined
    // One read serves both gauges of a scrape.
    const once = () => {
      figures ??= Promise.resolve(read()).finally(() => setImmediate(() => (figures = undefined)))
      return figures
    }
    new Gauge({
      name: `${p}queue_depth`,
      help: 'Jobs waiting or delayed per queue.',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        this.reset()
        for (const figure of await once()) this.set({ queue: figure.queue }, figure.depth)
      },
    })
    new Gauge({
      name: `${p}queue_lag_seconds`,
      help: 'How long the oldest waiting job has waited, per queue.',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        this.reset()
        for (const figure of await once()) this.set({ queue: figure.queue }, figure.lagSeconds)
      },
    })
  }
  const onLatency = (event: { ms: number }) => latency.observe(event.ms / 1000)
  const onBus = (event: { lagMs?: number }) => {
    if (event.lagMs !== undefined) busLag.observe(event.lagMs / 1000)
  }
  const onInvalidate = (event: CacheEvents['invalidate']) => {
    for (const [kind, items] of Object.entries(event.target))
      if (Array.isArray(items) && items.length > 0) invalidations.inc({ kind }, items.length)
  }
  cache.on('latency', onLatency).on('bus:message', onBus).on('invalidate', onInvalidate)
  return {
    stop() {
      cache.off('latency', onLatency).off('bus:message', onBus).off('invalidate', onInvalidate)
    },
  }
}

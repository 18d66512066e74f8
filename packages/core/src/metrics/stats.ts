import { LatencyHistogram } from './histogram.js'

/** Counters behind `cache.stats()`; plain fields so the hot paths only increment numbers. */
export class StatsCollector {
  l1Hits = 0
  l1Misses = 0
  l2Hits = 0
  l2Misses = 0
  l2Errors = 0
  loaderCalls = 0
  loaderErrors = 0
  softTimeouts = 0
  hardTimeouts = 0
  failSafeServed = 0
  fills = 0
  fillsRejectedStale = 0
  busPublished = 0
  busReceived = 0
  busGaps = 0
  l1Drops = 0
  unserializable = 0
  /** Calls that went past L1 (an L1 hit is a lookup; timing it would cost more than the hit). */
  readonly latency = new LatencyHistogram()

  snapshot(circuitOpen: boolean, publishQueue: number): CacheStats {
    return {
      l1: { hits: this.l1Hits, misses: this.l1Misses },
      l2: { hits: this.l2Hits, misses: this.l2Misses, errors: this.l2Errors, circuitOpen },
      loader: {
        calls: this.loaderCalls,
        errors: this.loaderErrors,
        softTimeouts: this.softTimeouts,
        hardTimeouts: this.hardTimeouts,
      },
      failSafeServed: this.failSafeServed,
      fills: this.fills,
      fillsRejectedStale: this.fillsRejectedStale,
      unserializable: this.unserializable,
      bus: {
        published: this.busPublished,
        received: this.busReceived,
        gaps: this.busGaps,
        queued: publishQueue,
        l1Drops: this.l1Drops,
      },
      latencyMs: {
        count: this.latency.count,
        p50: this.latency.percentileMs(50),
        p90: this.latency.percentileMs(90),
        p99: this.latency.percentileMs(99),
        max: this.latency.maxMs(),
      },
    }
  }
}

/** What `cache.stats()` returns. */
export interface CacheStats {
  l1: { hits: number; misses: number }
  l2: { hits: number; misses: number; errors: number; circuitOpen: boolean }
  loader: { calls: number; errors: number; softTimeouts: number; hardTimeouts: number }
  /** Calls answered with a grace value because the loader failed or was slow. */
  failSafeServed: number
  fills: number
  /** Fills that were no-ops because an invalidation happened while their loader ran. */
  fillsRejectedStale: number
  /** Values refused with CS_ERR_UNSERIALIZABLE (at `set` or after a loader), never cached. */
  unserializable: number
  /** `queued`: messages waiting for a retry; `l1Drops`: whole-L1 drops after a gap, reconnect or outage. */
  bus: { published: number; received: number; gaps: number; queued: number; l1Drops: number }
  /** Latency of getOrSet/get calls that went past L1, in ms. */
  latencyMs: { count: number; p50: number; p90: number; p99: number; max: number }
}

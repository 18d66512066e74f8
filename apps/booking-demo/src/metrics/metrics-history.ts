import type { Cache } from '@cachesaga/core'
import { bookingCatalog, type QueueAdmin } from '@cachesaga/queue'
import { LatencyWindow } from './latency-window.js'

/** One point of the dashboard's charts: what this instance saw during one sampling interval. */
export interface MetricsSample {
  /** End of the interval, ms since the epoch. */
  at: number
  /** (L1 + L2 hits) / reads in the interval; null without reads. */
  hitRate: number | null
  /** p95 of the availability reads answered in the interval, in ms; null without reads. */
  availabilityP95Ms: number | null
  /** Invalidations applied here (this instance's own and those received on the bus from others), per second. */
  invalidationsPerSecond: number
  /** The slowest bus message in the interval, publish to here (ms); null when none arrived. */
  busLagMs: number | null
  /** p99 of the lag of the booking queues' jobs finished in the interval (a histogram bucket's bound, ms); null without jobs. */
  queueLagMs: number | null
}

/**
 * The last few minutes of this instance's figures, sampled every `intervalMs`, for the dashboard's charts.
 * Hit rate and invalidations are differences of `cache.stats()` between samples; bus lag comes from core's
 * `bus:message` events; queue lag from `QueueAdmin.stats`, shared by every worker.
 */
export class MetricsHistory {
  private readonly samples: MetricsSample[] = []
  private readonly reads = new LatencyWindow(10_000)
  /** The queues' lag histograms at the last sample (all-time counts by bucket bound), to take differences of. */
  private lagCounts = new Map<number, number>()
  private busLags: number[] = []
  /** Every bus message's lag (publish on another instance to receipt here), over the last 10,000. */
  readonly busLag = new LatencyWindow(10_000)
  private last: { at: number; hits: number; reads: number; invalidations: number }
  private timer: NodeJS.Timeout | undefined
  private readonly onBusMessage = ({ lagMs }: { lagMs?: number }) => {
    if (lagMs === undefined) return
    this.busLags.push(lagMs)
    this.busLag.record(lagMs)
  }

  constructor(
    private readonly cache: Cache,
    private readonly queues: QueueAdmin,
    private readonly options: { intervalMs: number; keep: number } = { intervalMs: 2_000, keep: 150 },
  ) {
    this.last = this.counters()
  }

  start(): void {
    this.cache.on('bus:message', this.onBusMessage)
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.cache.off('bus:message', this.onBusMessage)
  }

  /** Records the duration of one availability read answered by this instance. */
  recordRead(durationMs: number): void {
    this.reads.record(durationMs)
  }

  list(): readonly MetricsSample[] {
    return this.samples
  }

  private counters() {
    const stats = this.cache.stats()
    return {
      at: Date.now(),
      hits: stats.l1.hits + stats.l2.hits,
      reads: stats.l1.hits + stats.l1.misses,
      invalidations: stats.bus.published + stats.bus.received,
    }
  }

  private async sample(): Promise<void> {
    const now = this.counters()
    const seconds = Math.max(0.001, (now.at - this.last.at) / 1_000)
    const reads = now.reads - this.last.reads
    const lags = this.busLags
    this.busLags = []
    const p95 = this.reads.percentileMs(95)
    this.reads.clear()
    const point: MetricsSample = {
      at: now.at,
      hitRate: reads === 0 ? null : (now.hits - this.last.hits) / reads,
      availabilityP95Ms: p95,
      invalidationsPerSecond: (now.invalidations - this.last.invalidations) / seconds,
      busLagMs: lags.length === 0 ? null : Math.max(...lags),
      queueLagMs: await this.queueLag(),
    }
    this.last = now
    this.samples.push(point)
    if (this.samples.length > this.options.keep) this.samples.shift()
  }

  private async queueLag(): Promise<number | null> {
    let stats: Awaited<ReturnType<QueueAdmin['stats']>>[]
    try {
      stats = await Promise.all(bookingCatalog.queues.map((queue) => this.queues.stats(queue, 1)))
    } catch {
      return null
    }
    const counts = new Map<number, number>()
    for (const { lag } of stats) {
      for (const bucket of lag.buckets)
        counts.set(bucket.upToMs, (counts.get(bucket.upToMs) ?? 0) + bucket.count)
    }
    const previous = this.lagCounts
    this.lagCounts = counts
    const bounds = [...counts.keys()].sort((a, b) => a - b)
    const fresh = bounds.map((bound) => Math.max(0, counts.get(bound)! - (previous.get(bound) ?? 0)))
    const total = fresh.reduce((sum, count) => sum + count, 0)
    if (total === 0 || previous.size === 0) return null
    let seen = 0
    for (const [index, count] of fresh.entries()) {
      seen += count
      if (seen >= total * 0.99) {
        const bound = bounds[index]!
        // The overflow bucket has no upper bound: report the largest finite one.
        return Number.isFinite(bound) ? bound : (bounds.at(-2) ?? null)
      }
    }
    return null
  }
}

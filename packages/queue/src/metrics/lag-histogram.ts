import type { Cluster, Redis } from 'ioredis'

/** Upper bounds (ms) of the lag buckets; a final unbounded bucket catches the rest. */
export const LAG_BUCKET_BOUNDS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000,
]

const OVERFLOW = '+Inf'

export interface LagHistogram {
  /** Cumulative-free counts per bucket, by upper bound in ms (`Infinity` for the last). */
  buckets: { upToMs: number; count: number }[]
  count: number
  /** Upper bound of the bucket holding the median; `undefined` when nothing was recorded. */
  p50Ms: number | undefined
  p99Ms: number | undefined
}

/** Where a queue's lag histogram lives: under the prefix, so on a cluster it shares the queue's slot. */
export function lagHistogramKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:cachesaga:lag`
}

function bucketOf(lagMs: number): string {
  const bound = LAG_BUCKET_BOUNDS_MS.find((upTo) => lagMs <= upTo)
  return bound === undefined ? OVERFLOW : String(bound)
}

/**
 * Counts lag samples in memory and adds them to the shared Redis hash every `flushEveryMs`: one HINCRBY
 * per bucket per flush instead of one per job, so metrics stay off the job's hot path. Workers in many
 * processes add up without coordination. Samples not yet flushed are lost if the process dies.
 */
export class LagRecorder {
  private pending = new Map<string, number>()
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key: string,
    onError: (error: unknown) => void,
    flushEveryMs = 1_000,
  ) {
    // A failed flush drops that second of samples: metrics must never take the worker down.
    this.timer = setInterval(() => this.flush().catch(onError), flushEveryMs)
    this.timer.unref()
  }

  record(lagMs: number): void {
    const bucket = bucketOf(Math.max(0, lagMs))
    this.pending.set(bucket, (this.pending.get(bucket) ?? 0) + 1)
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    const pipeline = this.redis.pipeline()
    for (const [bucket, count] of batch) pipeline.hincrby(this.key, bucket, count)
    await pipeline.exec()
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }
}

export async function readLagHistogram(redis: Redis | Cluster, key: string): Promise<LagHistogram> {
  const raw = await redis.hgetall(key)
  const buckets = [...LAG_BUCKET_BOUNDS_MS, Number.POSITIVE_INFINITY].map((upToMs) => ({
    upToMs,
    count: Number(raw[Number.isFinite(upToMs) ? String(upToMs) : OVERFLOW] ?? 0),
  }))
  const count = buckets.reduce((sum, bucket) => sum + bucket.count, 0)
  const quantile = (q: number): number | undefined => {
    if (count === 0) return undefined
    let seen = 0
    for (const bucket of buckets) {
      seen += bucket.count
      if (seen >= q * count) return bucket.upToMs
    }
    return Number.POSITIVE_INFINITY
  }
  return { buckets, count, p50Ms: quantile(0.5), p99Ms: quantile(0.99) }
}

const SUB_BUCKETS = 16
const MAGNITUDES = 40

/**
 * A log-linear latency histogram (like HdrHistogram, coarser): 16 linear sub-buckets per power
 * of two of microseconds, so any percentile is within about 6% of the true value, in fixed memory.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(SUB_BUCKETS * MAGNITUDES)
  private total = 0
  private max = 0

  recordMs(ms: number): void {
    const micros = Math.max(0, Math.round(ms * 1000))
    this.counts[indexOf(micros)]!++
    this.total++
    if (ms > this.max) this.max = ms
  }

  get count(): number {
    return this.total
  }

  /** The upper bound, in ms, of the bucket holding the `p`-th percentile (0 < p <= 100). */
  percentileMs(p: number): number {
    if (this.total === 0) return 0
    const rank = Math.ceil((p / 100) * this.total)
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(upperBoundOf(i) / 1000, this.max)
    }
    return this.max
  }

  maxMs(): number {
    return this.max
  }
}

function indexOf(micros: number): number {
  if (micros < SUB_BUCKETS) return micros
  const magnitude = Math.floor(Math.log2(micros / SUB_BUCKETS)) + 1
  const base = SUB_BUCKETS * 2 ** (magnitude - 1)
  const sub = Math.floor((micros - base) / (base / SUB_BUCKETS))
  return Math.min(magnitude * SUB_BUCKETS + sub, SUB_BUCKETS * MAGNITUDES - 1)
}

function upperBoundOf(index: number): number {
  const magnitude = Math.floor(index / SUB_BUCKETS)
  const sub = index % SUB_BUCKETS
  if (magnitude === 0) return sub + 1
  const base = SUB_BUCKETS * 2 ** (magnitude - 1)
  return base + (sub + 1) * (base / SUB_BUCKETS)
}

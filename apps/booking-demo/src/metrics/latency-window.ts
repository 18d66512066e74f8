/** The durations of the last `capacity` operations, for percentiles over recent traffic. */
export class LatencyWindow {
  private readonly samples: number[] = []
  private next = 0
  private total = 0

  constructor(private readonly capacity = 1_000) {}

  record(durationMs: number): void {
    if (this.samples.length < this.capacity) this.samples.push(durationMs)
    else this.samples[this.next] = durationMs
    this.next = (this.next + 1) % this.capacity
    this.total++
  }

  /** Forgets the samples (not the count), to start a new interval. */
  clear(): void {
    this.samples.length = 0
    this.next = 0
  }

  /** Operations recorded since start, not only those still in the window. */
  get count(): number {
    return this.total
  }

  /** The `percentile` (0-100) of the window by nearest rank; null when nothing was recorded. */
  percentileMs(percentile: number): number | null {
    if (this.samples.length === 0) return null
    const sorted = [...this.samples].sort((a, b) => a - b)
    const rank = Math.ceil((percentile / 100) * sorted.length)
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
  }
}

import { describe, expect, it } from 'vitest'
import { LatencyHistogram } from './histogram.js'

describe('latency histogram', () => {
  it('answers zero before anything is recorded', () => {
    const histogram = new LatencyHistogram()
    expect(histogram.percentileMs(50)).toBe(0)
    expect(histogram.count).toBe(0)
  })

  it('places percentiles within about 6% of the exact value', () => {
    const histogram = new LatencyHistogram()
    for (let i = 1; i <= 10_000; i++) histogram.recordMs(i / 100) // 0.01 ms .. 100 ms
    for (const [p, exact] of [
      [50, 50],
      [90, 90],
      [99, 99],
    ] as const) {
      const answer = histogram.percentileMs(p)
      expect(answer).toBeGreaterThanOrEqual(exact)
      expect(answer).toBeLessThanOrEqual(exact * 1.07)
    }
    expect(histogram.maxMs()).toBe(100)
    expect(histogram.percentileMs(100)).toBe(100)
  })

  it('keeps sub-microsecond and very long samples', () => {
    const histogram = new LatencyHistogram()
    histogram.recordMs(0.0001)
    histogram.recordMs(3_600_000)
    expect(histogram.count).toBe(2)
    expect(histogram.percentileMs(50)).toBeLessThanOrEqual(0.001)
    expect(histogram.percentileMs(100)).toBe(3_600_000)
  })
})

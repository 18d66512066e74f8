import { describe, expect, it } from 'vitest'
import { LatencyWindow } from './latency-window.js'

describe('the latency window', () => {
  it('has no percentiles before the first sample', () => {
    expect(new LatencyWindow().percentileMs(95)).toBeNull()
  })

  it('gives nearest-rank percentiles of the most recent samples only', () => {
    const window = new LatencyWindow(100)
    for (let ms = 1; ms <= 100; ms++) window.record(ms)
    expect(window.percentileMs(50)).toBe(50)
    expect(window.percentileMs(95)).toBe(95)
    for (let i = 0; i < 100; i++) window.record(1_000)
    expect(window.percentileMs(50)).toBe(1_000)
    expect(window.count).toBe(200)
  })
})

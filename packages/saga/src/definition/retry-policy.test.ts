import { describe, expect, it } from 'vitest'
import { retryDelay, retryPolicySchema } from './retry-policy.js'

describe('retryDelay', () => {
  const exponential = retryPolicySchema.parse({ initialDelay: 100, maxDelay: '1s' })

  it('doubles after every failure up to the maximum, with jitter between half and the whole planned delay', () => {
    for (const [failures, planned] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1000],
      [9, 1000],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const delay = retryDelay(exponential, failures)
        expect(delay).toBeGreaterThanOrEqual(planned / 2)
        expect(delay).toBeLessThanOrEqual(planned)
      }
    }
  })

  it('spreads retries that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelay(exponential, 3)))
    expect(delays.size).toBeGreaterThan(1)
  })

  it('keeps the delay with fixed backoff', () => {
    const fixed = retryPolicySchema.parse({ backoff: 'fixed', initialDelay: 100 })
    expect(retryDelay(fixed, 7)).toBeLessThanOrEqual(100)
    expect(retryDelay(fixed, 7)).toBeGreaterThanOrEqual(50)
  })
})

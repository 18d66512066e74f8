import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from './circuit-breaker.js'

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive failures and reports it once', () => {
    const changes: boolean[] = []
    const breaker = new CircuitBreaker(3, 60_000, (open) => changes.push(open))
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    expect(breaker.allows()).toBe(true)
    breaker.failure()
    expect(breaker.isOpen).toBe(true)
    expect(breaker.allows()).toBe(false)
    breaker.failure()
    expect(changes).toEqual([true])
  })

  it('lets one probe through after the open period and closes on its success', async () => {
    const changes: boolean[] = []
    const breaker = new CircuitBreaker(1, 20, (open) => changes.push(open))
    breaker.failure()
    expect(breaker.allows()).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(breaker.allows()).toBe(true)
    expect(breaker.allows()).toBe(false)
    breaker.success()
    expect(breaker.allows()).toBe(true)
    expect(changes).toEqual([true, false])
  })
})

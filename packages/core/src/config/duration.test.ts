import { describe, expect, it } from 'vitest'
import { CacheError } from '../errors.js'
import { toMilliseconds } from './duration.js'

describe('durations', () => {
  it('accept milliseconds and unit strings', () => {
    expect(toMilliseconds(1500, 'ttl')).toBe(1500)
    expect(toMilliseconds('250ms', 'ttl')).toBe(250)
    expect(toMilliseconds('30s', 'ttl')).toBe(30_000)
    expect(toMilliseconds('5m', 'ttl')).toBe(300_000)
    expect(toMilliseconds('1.5h', 'ttl')).toBe(5_400_000)
    expect(toMilliseconds('1d', 'ttl')).toBe(86_400_000)
  })

  it('reject anything else with an error naming the field', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5 minutes', '', 'm5', '10x']) {
      const attempt = () => toMilliseconds(bad, 'l1.maxAge')
      expect(attempt).toThrow(CacheError)
      expect(attempt).toThrow(/^l1\.maxAge: expected a duration/)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { durationSchema, parseDuration } from './duration.js'

describe('parseDuration', () => {
  it('takes milliseconds and unit strings', () => {
    expect(parseDuration(250)).toBe(250)
    expect(parseDuration(0.6)).toBe(1)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('1.5 m')).toBe(90_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration('1d')).toBe(86_400_000)
  })

  it('refuses what is not a duration', () => {
    for (const bad of [
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '30',
      '30 sec',
      '-5s',
      '',
      null,
      {},
      '1e3ms',
    ]) {
      expect(parseDuration(bad)).toBeUndefined()
    }
  })

  it('as a zod schema, outputs milliseconds and says what it expected', () => {
    expect(durationSchema.parse('5m')).toBe(300_000)
    const result = durationSchema.safeParse('soon')
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toBe(
      `expected a duration (milliseconds >= 0, or a string like '30s', '5m'), got "soon"`,
    )
  })
})

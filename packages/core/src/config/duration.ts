import { CacheError } from '../errors.js'

/** A duration in milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | string

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

// Per-call options repeat the same few strings; memoising keeps parsing off the hot path.
const parsed = new Map<string, number>()

/** Parses a duration to whole milliseconds; throws a CacheError naming `field` when it is not one. */
export function toMilliseconds(value: Duration, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value)
  } else if (typeof value === 'string') {
    const known = parsed.get(value)
    if (known !== undefined) return known
    const match = DURATION.exec(value.trim())
    if (match) {
      const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2]!] ?? 0))
      if (parsed.size < 1_000) parsed.set(value, ms)
      return ms
    }
  }
  throw new CacheError(
    'CS_ERR_INVALID_OPTION',
    `${field}: expected a duration (milliseconds >= 0, or a string like '30s', '5m'), got ${JSON.stringify(value)}`,
  )
}

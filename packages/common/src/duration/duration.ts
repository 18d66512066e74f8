import { z } from 'zod'

/** A duration in milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | string

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/** What every package says when a duration does not parse. */
export const DURATION_EXPECTED = "expected a duration (milliseconds >= 0, or a string like '30s', '5m')"

// Per-call options repeat the same few strings; memoising keeps parsing off hot paths.
const parsed = new Map<string, number>()

/** Whole milliseconds, or undefined when `value` is not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined
  if (typeof value !== 'string') return undefined
  const known = parsed.get(value)
  if (known !== undefined) return known
  const match = DURATION.exec(value.trim())
  if (match === null) return undefined
  const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2]!] ?? 0))
  if (parsed.size < 1_000) parsed.set(value, ms)
  return ms
}

/** A zod schema that takes a `Duration` and outputs milliseconds; its issue says what a duration looks like. */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value)
  if (ms !== undefined) return ms
  ctx.addIssue({ code: 'custom', message: `${DURATION_EXPECTED}, got ${JSON.stringify(value)}` })
  return z.NEVER
})

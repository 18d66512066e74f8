import { DURATION_EXPECTED, type Duration, parseDuration } from '@cachesaga/common'
import { invalidOption } from '../errors.js'

export type { Duration }

/** Parses a duration to whole milliseconds; throws CS_ERR_INVALID_OPTION naming `field` when it is not one. */
export function toMilliseconds(value: Duration, field: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) throw invalidOption(field, `${DURATION_EXPECTED}, got ${JSON.stringify(value)}`)
  return ms
}

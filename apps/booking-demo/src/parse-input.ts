import { describeIssues, firstIssuePath } from '@cachesaga/common'
import type { z } from 'zod'
import { BookingDemoError } from './errors.js'

/** Parses an outside input, naming the offending field in the message and in `details.field`. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const { issues } = result.error
  throw new BookingDemoError('BOOKING_ERR_INVALID_INPUT', describeIssues(issues, what), {
    cause: result.error,
    details: { field: firstIssuePath(issues, what) },
  })
}

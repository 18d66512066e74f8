import type { z } from 'zod'
import { BookingDemoError } from './errors.js'

/** Parses an outside input, naming the offending field in the error. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issues = result.error.issues
    .map((issue) => `${[what, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ')
  throw new BookingDemoError('BOOKING_ERR_INVALID_INPUT', issues, { cause: result.error })
}

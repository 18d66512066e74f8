import { describeIssues, firstIssuePath } from '@cachesaga/common'
import { z } from 'zod'
import { PostgresError } from './errors.js'

/** Parses options from outside, naming the offending field: `ChangeListenerOptions.name: ...`. */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  throw new PostgresError('PG_ERR_INVALID_OPTIONS', describeIssues(result.error.issues, what), {
    cause: result.error,
    details: { field: firstIssuePath(result.error.issues, what) },
  })
}

/** A function-valued option; its TypeScript type says which function. */
export const functionSchema = <F>() =>
  z.custom<F>((value) => typeof value === 'function', 'expected a function')

/** A name PostgreSQL takes unquoted and this package may splice into SQL: a listener, a slot, a schema. */
export const identifierSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected lowercase letters, digits and underscores (at most 63)')

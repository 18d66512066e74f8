import type { z } from 'zod'
import { SagaError, type SagaErrorCode } from './errors.js'

/** Parses an outside value, failing with `code` and every bad field named, e.g. `input.staffId: expected string`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: SagaErrorCode,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const fields = parsed.error.issues.map(
    (issue) => `${[what, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  )
  throw new SagaError(code, fields.join('; '), { cause: parsed.error })
}

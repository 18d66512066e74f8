import { describeIssues, firstIssuePath } from '@cachesaga/common'
import type { z } from 'zod'
import { SagaError, type SagaErrorCode } from './errors.js'

/**
 * Parses an outside value, failing with `code` and every bad field named (`input.staffId: expected string`); the
 * first bad field is also `details.field`.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: SagaErrorCode,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const { issues } = parsed.error
  throw new SagaError(code, describeIssues(issues, what), {
    cause: parsed.error,
    details: { field: firstIssuePath(issues, what) },
  })
}

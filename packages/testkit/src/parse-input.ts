import { z } from 'zod'
import { TestkitError } from './errors.js'

/** Parses options or environment at the boundary; the error names the offending field. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  source: string,
): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `${source}.${issue.path.join('.')}` : source
    return `${field}: ${issue.message}`
  })
  throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', problems.join('; '))
}

/** An optional server URL from the environment; an empty variable counts as unset, as in most shells' idiom. */
export function envUrl(protocol: RegExp) {
  return z.preprocess((value) => (value === '' ? undefined : value), z.url({ protocol }).optional())
}

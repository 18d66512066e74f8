import type { z } from 'zod'
import { CliError } from '../errors.js'

/**
 * Parses a command's flags and arguments with `schema`; an error names the flag as typed
 * (`--pattern #2: ...`, `<queue>: ...`, `REDIS_URL: ...`) rather than the schema's field.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  values: Record<string, unknown>,
  names: Record<string, string> = {},
): z.output<S> {
  const result = schema.safeParse(values)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const [field, index] = issue.path
  const name = typeof field === 'string' ? (names[field] ?? flagName(field)) : 'input'
  const which = typeof index === 'number' ? ` #${index + 1}` : ''
  throw new CliError('CLI_ERR_USAGE', `${name}${which}: ${issue.message}`)
}

/** `dryRun` -> `--dry-run`. */
export function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
}

/** Commander collector for a flag that may be given several times. */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

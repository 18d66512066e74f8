import { createHash } from 'node:crypto'
import { CacheError } from '../errors.js'

const MAX_NAME_LENGTH = 256

/** Checks a cached function's name: it is matched exactly, so any non-empty string without NUL will do. */
export function checkFunctionName(name: unknown, field: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || name.includes('\0')) {
    throw new CacheError(
      'CS_ERR_INVALID_OPTION',
      `${field}: a cached function name is a non-empty string of at most ${MAX_NAME_LENGTH} characters without NUL`,
    )
  }
  return name
}

/** The cache key of one call: `fn:<name>:<hash of the arguments>`. */
export function callKey(name: string, args: readonly unknown[]): string {
  return `fn:${name}:${createHash('sha256').update(stableStringify(args)).digest('base64url').slice(0, 32)}`
}

/**
 * JSON with object keys sorted, so `{ a, b }` and `{ b, a }` are the same call. `undefined`,
 * bigints and dates get distinct tags so they do not collide with look-alike strings.
 */
function stableStringify(value: unknown): string {
  if (value === undefined) return '"\\u0000undefined"'
  if (typeof value === 'bigint') return `"\\u0000bigint:${value}"`
  if (value instanceof Date) return `"\\u0000date:${value.toISOString()}"`
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`).join(',')}}`
}

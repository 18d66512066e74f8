import { z } from 'zod'
import type { Duration } from '../config/duration.js'
import { CacheError } from '../errors.js'

/** What to invalidate. At least one item is required: `invalidate({})` is an error, not a full clear. */
export interface InvalidationTarget {
  /** Exact cache keys. */
  keys?: string[]
  /** Tags given when entries were written: one O(1) generation bump each. */
  tags?: string[]
  /** Globs over this namespace's keys: `*` any run, `?` one character, `\` escapes; others are literal. */
  patterns?: string[]
  /** Scope paths like `'tenant:acme/branch:3'`: the node and everything beneath, or the node only with `descendants: false`. */
  scopes?: Array<string | { scope: string; descendants?: boolean }>
  /** Cached functions (`cache.wrap`): every call of `name`, or the one call with `args`. */
  queries?: Array<{ name: string; args?: unknown[] }>
}

/** Options of `cache.invalidate`. */
export interface InvalidateOptions {
  /**
   * The most the call takes, every target together (they run in parallel, each retried within it), the bus
   * publish included. Default: the cache's `invalidate.timeout` (`'2s'`). What is not confirmed by then is in
   * the report's `errors` and the call rejects with CS_ERR_INVALIDATION_FAILED.
   */
  timeout?: Duration
  /** Count and sample what patterns would remove, and change nothing. */
  dryRun?: boolean
  /** Allow a pattern that matches every key (`*`); refused otherwise. */
  all?: boolean
  /** Called after each SCAN page of a pattern invalidation, e.g. to draw a progress bar. */
  onProgress?: (progress: PatternProgress) => void
}

/** How far a pattern invalidation has walked the keyspace. */
export interface PatternProgress {
  pattern: string
  /** Keys the SCAN of this pattern has walked so far (pages x COUNT, an upper bound), per Redis node. */
  scanned: number
  /** Keys matched (removed, or counted in a dry run) so far. */
  matched: number
}

const MAX_LENGTH = 1024
const text = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(MAX_LENGTH, `${what} is longer than ${MAX_LENGTH} characters`)
    .refine((value) => !value.includes('\0'), `${what} must not contain NUL`)

const schema = z
  .object({
    keys: z.array(text('a key')).optional(),
    tags: z.array(text('a tag')).optional(),
    // Empty patterns pass here; the pattern strategy refuses them as match-all with a precise error.
    patterns: z
      .array(
        z
          .string()
          .max(MAX_LENGTH)
          .refine((v) => !v.includes('\0'), 'a pattern must not contain NUL'),
      )
      .optional(),
    scopes: z
      .array(
        z.union([
          text('a scope'),
          z.object({ scope: text('a scope'), descendants: z.boolean().optional() }).strict(),
        ]),
      )
      .optional(),
    queries: z
      .array(z.object({ name: text('a query name'), args: z.array(z.unknown()).optional() }).strict())
      .optional(),
  })
  .strict()

/** Validates an invalidation target (it may come from outside: a queue payload, an HTTP body). */
export function parseTarget(input: unknown): InvalidationTarget {
  const result = schema.safeParse(input)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const field = issue.path.length > 0 ? `target.${issue.path.join('.')}` : 'target'
    throw new CacheError('CS_ERR_INVALID_TARGET', `${field}: ${issue.message}`)
  }
  const target = result.data
  const items =
    (target.keys?.length ?? 0) +
    (target.tags?.length ?? 0) +
    (target.patterns?.length ?? 0) +
    (target.scopes?.length ?? 0) +
    (target.queries?.length ?? 0)
  if (items === 0) {
    throw new CacheError(
      'CS_ERR_INVALID_TARGET',
      'target: nothing to invalidate (use cache.clear() for everything)',
    )
  }
  return target
}

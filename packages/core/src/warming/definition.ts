import { z } from 'zod'
import type { EntryOptions } from '../config/entry-options.js'
import { CacheError } from '../errors.js'

/** Keys to warm, for one subject (a tenant or user id) when `warm` is given subjects. */
export type KeyProducer = (
  subject: string | undefined,
) => Iterable<string> | AsyncIterable<string> | Promise<Iterable<string>>

/** What `cache.warmer.register` takes. Give `keys` or `producer`. */
export interface WarmDefinition {
  /** A fixed list of keys. */
  keys?: readonly string[]
  /** Produces the keys, once per subject when `warm` is given subjects (per-tenant, per-user warming). */
  producer?: KeyProducer
  /** Loads one key's value from the source of truth. */
  loader: (key: string) => unknown
  /** Entry options of the warmed entries (ttl, tags, scope ...), as for `getOrSet`. */
  options?: EntryOptions
  /** Higher runs first in `warmOnStartup` and `warm()`. Default 0. */
  priority?: number
  /**
   * A glob (as in `invalidate({ patterns })`) of keys the refresh sweep reloads once they are past
   * `refreshAt` of their TTL, with this definition's loader. Default: none.
   */
  refresh?: string
}

const fn = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === 'function',
  'expected a function',
)

const schema = z
  .object({
    keys: z.array(z.string().min(1)).optional(),
    producer: fn.optional(),
    loader: fn,
    options: z.record(z.string(), z.unknown()).optional(),
    priority: z.number().default(0),
    refresh: z.string().min(1).optional(),
  })
  .strict()
  .refine((value) => (value.keys === undefined) !== (value.producer === undefined), {
    message: 'give exactly one of keys or producer',
    path: ['keys'],
  })

/** Validates a definition at registration, naming the field that is wrong. */
export function parseDefinition(name: string, input: WarmDefinition): { priority: number } {
  const result = schema.safeParse(input)
  if (result.success) return { priority: result.data.priority }
  const issue = result.error.issues[0]!
  throw new CacheError('CS_ERR_INVALID_OPTION', `warmer ${name}.${issue.path.join('.')}: ${issue.message}`)
}

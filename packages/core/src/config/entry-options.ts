import { invalidOption } from '../errors.js'
import { dependency, scopeDependencies } from '../stack/dependencies.js'
import { type Duration, toMilliseconds } from './duration.js'
import type { ScopeTree } from './scope-tree.js'

/** Per-call options of `getOrSet` and `set`. */
export interface EntryOptions {
  /** Time the entry is fresh; defaults to the cache's `ttl`. */
  ttl?: Duration
  /** Time past the TTL it may serve as a fail-safe fallback; defaults to the cache's `grace`. */
  grace?: Duration
  /** Tags: `invalidate({ tags })` drops every entry carrying one, in O(1). */
  tags?: string[]
  /** Scope path the entry lives under, e.g. `'tenant:acme/branch:3'`. */
  scope?: string
}

/** Entry options after validation: milliseconds and dependency suffixes. */
export interface ResolvedEntryOptions {
  ttlMs: number
  graceMs: number
  /** Dependency suffixes (`t:`, `s:`, `S:`, `f:`) recorded in the entry. */
  deps: string[]
}

const MAX_TAG_LENGTH = 1024

/**
 * Validates per-call options without zod (they are on the hot path) but with the same field-named
 * errors. Calls without options share one precomputed object.
 */
export class EntryOptionsResolver {
  readonly defaults: ResolvedEntryOptions

  constructor(
    private readonly ttlMs: number,
    private readonly graceMs: number,
    private readonly scopes: ScopeTree,
  ) {
    this.defaults = { ttlMs, graceMs, deps: [] }
  }

  resolve(options: EntryOptions | undefined, cachedFunction?: string): ResolvedEntryOptions {
    if (options === undefined && cachedFunction === undefined) return this.defaults
    const deps: string[] = []
    if (options?.tags !== undefined) {
      if (!Array.isArray(options.tags)) throw invalidOption('options.tags', 'expected an array of strings')
      for (const tag of options.tags) {
        if (
          typeof tag !== 'string' ||
          tag.length === 0 ||
          tag.length > MAX_TAG_LENGTH ||
          tag.includes('\0')
        ) {
          throw invalidOption(
            'options.tags',
            `each tag is a non-empty string without NUL, got ${JSON.stringify(tag)}`,
          )
        }
        deps.push(dependency.tag(tag))
      }
    }
    if (options?.scope !== undefined) {
      if (typeof options.scope !== 'string')
        throw invalidOption('options.scope', 'expected a scope path string')
      deps.push(...scopeDependencies(this.scopes.check(options.scope, 'options.scope')))
    }
    if (cachedFunction !== undefined) deps.push(dependency.cachedFunction(cachedFunction))
    return {
      ttlMs: options?.ttl === undefined ? this.ttlMs : toMilliseconds(options.ttl, 'options.ttl'),
      graceMs: options?.grace === undefined ? this.graceMs : toMilliseconds(options.grace, 'options.grace'),
      deps,
    }
  }
}

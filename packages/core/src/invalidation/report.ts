/** The kinds of target `invalidate` accepts. */
export type InvalidationKind = 'keys' | 'tags' | 'patterns' | 'scopes' | 'queries'

/** What `cache.invalidate` did. It is never returned with `ok: true` for work that did not happen. */
export interface InvalidationReport {
  /** True when every target was applied in L2 (or there is no L2) and in this instance's L1. */
  ok: boolean
  dryRun: boolean
  /**
   * Targets that matched something, per kind: a key whose entry existed, a tag, scope or cached function that
   * something was ever written with (its generation counter existed), a pattern that matched a key. In a dry
   * run: what would match now.
   */
  counts: Record<InvalidationKind, number>
  /**
   * Targets applied that matched nothing (a key without an entry, a tag, scope or cached function never written
   * with, a pattern without a key): often a typo. They are applied all the same, and not errors.
   */
  unmatched: Array<{ kind: InvalidationKind; target: string }>
  /** Entries physically removed from L2 by keys, query calls and patterns (0 in a dry run). */
  removed: number
  /** Per pattern: keys matched (removed, or that would be in a dry run) and a sample of them. */
  patterns: Array<{ pattern: string; matched: number; sample: string[] }>
  /** True when the bus message was accepted by Redis; false when queued for retry or there is no bus. */
  published: boolean
  durationMs: number
  /** One per failed item after retries; the other items were still applied. */
  errors: Array<{ kind: InvalidationKind; target: string; error: { message: string; code?: string } }>
}

export function emptyReport(dryRun: boolean): InvalidationReport {
  return {
    ok: true,
    dryRun,
    counts: { keys: 0, tags: 0, patterns: 0, scopes: 0, queries: 0 },
    unmatched: [],
    removed: 0,
    patterns: [],
    published: false,
    durationMs: 0,
    errors: [],
  }
}

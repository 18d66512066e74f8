import type { InvalidationTarget } from '@cachesaga/core'

const KINDS = ['keys', 'tags', 'patterns', 'scopes', 'queries'] as const

/**
 * Merges targets into one, each item once (compared by value), in the order first seen; undefined when
 * there is nothing to invalidate (core refuses an empty target). Items already in `seen` are left out, so
 * a caller merging in several rounds applies each item once overall.
 */
export function mergeTargets(
  targets: readonly (InvalidationTarget | undefined)[],
  seen = new Set<string>(),
): InvalidationTarget | undefined {
  const merged: Record<string, unknown[]> = {}
  let added = 0
  for (const target of targets) {
    if (target === undefined) continue
    for (const kind of KINDS) {
      for (const item of target[kind] ?? []) {
        const identity = `${kind}\0${JSON.stringify(item)}`
        if (seen.has(identity)) continue
        seen.add(identity)
        added++
        const items = merged[kind] ?? []
        items.push(item)
        merged[kind] = items
      }
    }
  }
  return added === 0 ? undefined : (merged as InvalidationTarget)
}

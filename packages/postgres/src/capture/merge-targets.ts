import type { InvalidationTarget } from '@cachesaga/core'

const KINDS = ['keys', 'tags', 'patterns', 'scopes', 'queries'] as const

/**
 * Merges targets into one, each item once (compared by value), in the order first seen; undefined when
 * there is nothing to invalidate (core refuses an empty target).
 */
export function mergeTargets(
  targets: readonly (InvalidationTarget | undefined)[],
): InvalidationTarget | undefined {
  const merged: Record<string, unknown[]> = {}
  const seen = new Set<string>()
  for (const target of targets) {
    if (target === undefined) continue
    for (const kind of KINDS) {
      for (const item of target[kind] ?? []) {
        const identity = `${kind}\0${JSON.stringify(item)}`
        if (seen.has(identity)) continue
        seen.add(identity)
        const items = merged[kind] ?? []
        items.push(item)
        merged[kind] = items
      }
    }
  }
  return seen.size === 0 ? undefined : (merged as InvalidationTarget)
}

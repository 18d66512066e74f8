import type { InvalidationTarget } from '@cachesaga/core'

type Items = Required<InvalidationTarget>

/**
 * Merges targets into one, each item once (compared by value), in the order first seen; undefined when
 * there is nothing to invalidate (core refuses an empty target).
 */
export function mergeTargets(
  targets: readonly (InvalidationTarget | undefined)[],
): InvalidationTarget | undefined {
  const merged: { [K in keyof Items]?: Items[K][number][] } = {}
  const seen = new Set<string>()
  let items = 0
  for (const target of targets) {
    if (target === undefined) continue
    for (const kind of ['keys', 'tags', 'patterns', 'scopes', 'queries'] as const) {
      for (const item of target[kind] ?? []) {
        const identity = `${kind}\0${JSON.stringify(item)}`
        if (seen.has(identity)) continue
        seen.add(identity)
        ;(merged[kind] ??= [] as never[]).push(item as never)
        items++
      }
    }
  }
  return items === 0 ? undefined : (merged as InvalidationTarget)
}

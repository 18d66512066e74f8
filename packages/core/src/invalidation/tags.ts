import { dependency } from '../stack/dependencies.js'
import type { DependencyItem } from './items.js'

/** A tag is one generation counter: bumping it invalidates every entry that recorded it, in O(1). */
export function tagItems(tags: readonly string[]): DependencyItem[] {
  return tags.map((tag) => ({ kind: 'tags', target: tag, dep: dependency.tag(tag) }))
}

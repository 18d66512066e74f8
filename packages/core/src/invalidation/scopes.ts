import type { ScopeTree } from '../config/scope-tree.js'
import { dependency } from '../stack/dependencies.js'
import type { DependencyItem } from './items.js'

/**
 * An entry under `a/b/c` recorded the subtree counters of `a`, `a/b`, `a/b/c` and the node counter
 * of `a/b/c`. Bumping `s:<path>` therefore reaches the node and all beneath it; `S:<path>`
 * (descendants: false) only entries written exactly at the node.
 */
export function scopeItems(
  scopes: ReadonlyArray<string | { scope: string; descendants?: boolean }>,
  tree: ScopeTree,
): DependencyItem[] {
  return scopes.map((item, index) => {
    const path = typeof item === 'string' ? item : item.scope
    const descendants = typeof item === 'string' || item.descendants !== false
    tree.check(path, `target.scopes.${index}`)
    return {
      kind: 'scopes',
      target: descendants ? path : `${path} (node only)`,
      dep: descendants ? dependency.scopeSubtree(path) : dependency.scopeNode(path),
    }
  })
}

/**
 * What an entry depends on besides its key, named by a short suffix that is also the name of its generation
 * counter in Redis and what the bus carries: `t:<tag>`, `s:<path>` (a scope subtree), `S:<path>` (a scope
 * node only), `f:<name>` (a cached function). Every entry also depends on its namespace (see Fence).
 */
export const dependency = {
  tag: (tag: string) => `t:${tag}`,
  scopeSubtree: (path: string) => `s:${path}`,
  scopeNode: (path: string) => `S:${path}`,
  cachedFunction: (name: string) => `f:${name}`,
}

/** The dependencies of an entry written under `path`: every ancestor-or-self subtree, plus its own node. */
export function scopeDependencies(path: string): string[] {
  const segments = path.split('/')
  const deps: string[] = []
  for (let i = 1; i <= segments.length; i++)
    deps.push(dependency.scopeSubtree(segments.slice(0, i).join('/')))
  deps.push(dependency.scopeNode(path))
  return deps
}

/**
 * Where everything of one cache lives in Redis. Every key starts with `cs:{<namespace>}` (or
 * `cs:{<namespace>:<tenant>}`), a hash tag, so a multi-key Lua script stays in one Cluster slot.
 *
 * Generation counters are named by a "dependency" suffix after `<prefix>:g:`:
 * `k:<key>` key, `t:<tag>` tag, `s:<path>` scope subtree, `S:<path>` scope node only,
 * `f:<name>` cached function, `p` pattern epoch, `n` namespace (emergency clear).
 */
export class KeyLayout {
  readonly prefix: string
  readonly entryPrefix: string
  readonly patternEpoch: string
  readonly namespaceGeneration: string
  readonly channel: string
  readonly probeChannel: string

  constructor(namespace: string, tenant: string | undefined) {
    this.prefix = tenant === undefined ? `cs:{${namespace}}` : `cs:{${namespace}:${tenant}}`
    this.entryPrefix = `${this.prefix}:e:`
    this.patternEpoch = `${this.prefix}:g:p`
    this.namespaceGeneration = `${this.prefix}:g:n`
    this.channel = `${this.prefix}:bus`
    this.probeChannel = `${this.prefix}:probe`
  }

  entry(key: string): string {
    return this.entryPrefix + key
  }

  keyGeneration(key: string): string {
    return `${this.prefix}:g:k:${key}`
  }

  lease(key: string): string {
    return `${this.prefix}:l:${key}`
  }

  counter(dependency: string): string {
    return `${this.prefix}:g:${dependency}`
  }
}

/** Dependency suffixes of an entry (see KeyLayout); the namespace generation `n` is implied for every entry. */
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

import { LRUCache } from 'lru-cache'

/** An in-memory copy of an entry. Times are ms since the epoch. */
export interface L1Entry {
  readonly value: unknown
  /** Fresh until then. */
  readonly expiresAt: number
  /** A hit from then on triggers one background refresh; set to Infinity once triggered. */
  refreshAt: number
  /** May serve as a fail-safe fallback until then. */
  readonly graceEnd: number
  /** Gone from L1 at this time, whatever its TTL: min(grace end, written + l1.maxAge). */
  readonly deadline: number
  /** Dependency suffixes (tags, scopes, cached function) whose invalidation drops it. */
  readonly deps: readonly string[]
  /** The stamp of the fill this copy came from (see tiers/entry-format.ts); its hash is the read's generation. */
  readonly stamp: string
}

/**
 * The bounded in-memory tier. Entries are indexed by dependency so that a tag, scope or
 * cached-function invalidation drops exactly the entries that recorded it.
 */
export class L1Memory {
  /** False while the bus has been down too long: L1 is neither read nor written. */
  enabled = true
  private readonly lru: LRUCache<string, L1Entry>
  private readonly byDependency = new Map<string, Set<string>>()

  constructor(
    maxEntries: number,
    readonly maxAgeMs: number,
  ) {
    this.lru = new LRUCache<string, L1Entry>({
      max: maxEntries,
      dispose: (entry, key) => this.unindex(key, entry),
    })
  }

  get size(): number {
    return this.lru.size
  }

  /** The entry, or undefined when absent, past its deadline, or L1 is suspended. */
  get(key: string, now: number): L1Entry | undefined {
    if (!this.enabled) return undefined
    const entry = this.lru.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.deadline) {
      this.lru.delete(key)
      return undefined
    }
    return entry
  }

  set(key: string, entry: L1Entry): void {
    if (!this.enabled || entry.deadline <= Date.now()) return
    this.lru.set(key, entry)
    for (const dep of entry.deps) {
      let keys = this.byDependency.get(dep)
      if (keys === undefined) {
        keys = new Set()
        this.byDependency.set(dep, keys)
      }
      keys.add(key)
    }
  }

  delete(key: string): boolean {
    return this.lru.delete(key)
  }

  /** Drops every entry that recorded `dep`; returns how many. */
  dropDependency(dep: string): number {
    const keys = this.byDependency.get(dep)
    if (keys === undefined) return 0
    let dropped = 0
    for (const key of [...keys]) if (this.lru.delete(key)) dropped++
    this.byDependency.delete(dep)
    return dropped
  }

  keys(): IterableIterator<string> {
    return this.lru.keys()
  }

  /** Drops every entry whose key matches; returns how many. */
  dropMatching(pattern: RegExp): number {
    let dropped = 0
    for (const key of [...this.lru.keys()]) {
      if (pattern.test(key) && this.lru.delete(key)) dropped++
    }
    return dropped
  }

  clear(): void {
    this.lru.clear()
    this.byDependency.clear()
  }

  private unindex(key: string, entry: L1Entry): void {
    for (const dep of entry.deps) {
      const keys = this.byDependency.get(dep)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.byDependency.delete(dep)
    }
  }
}

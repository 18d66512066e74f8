import type { Recorded } from '../stack/fence.js'
import { turnNow } from './clock.js'

/** An in-memory copy of an entry. Times are ms since the epoch. */
export interface L1Entry {
  readonly value: unknown
  /** Fresh until then. */
  readonly expiresAt: number
  /** A hit from then on triggers one background refresh; set to Infinity once triggered. */
  refreshAt: number
  /** May serve as a fail-safe fallback until then. */
  readonly graceEnd: number
  readonly createdAt: number
  /** Gone from L1 at this time, whatever its TTL: min(grace end, written + l1.maxAge). */
  readonly deadline: number
  /** The versions its fill recorded; its dependencies are what invalidates it. */
  readonly recorded: Recorded
}

/** The local invalidation clock of one dependency, shared by the copies that depend on it. */
interface DependencyClock {
  /** The L1 tick of its latest invalidation: a copy written before then is invalid. */
  invalidatedAt: number
  /** Copies holding it; at 0 it is forgotten (a copy written later gets a fresh one). */
  users: number
}

class Slot {
  /** Second chance: set by a hit, cleared when the eviction hand passes by. */
  used = false
  /** False once removed: the eviction queue may still hold it, and skips it. */
  live = true
  constructor(
    readonly key: string,
    readonly entry: L1Entry,
    readonly clocks: readonly DependencyClock[],
    readonly writtenAt: number,
  ) {}
}

const NO_CLOCKS: readonly DependencyClock[] = []

/**
 * The bounded in-memory tier. Invalidating a tag, scope or cached function is O(1): it moves that
 * dependency's clock, and a copy is checked against the clocks of its dependencies when it is read (one
 * comparison per dependency, nothing for a copy without any); invalid copies are dropped then, or by
 * eviction. Eviction is second-chance (CLOCK) over a queue in insertion order: a hit only sets a flag,
 * where an exact LRU would move the entry on every hit. (The queue is its own array: walking a Map from
 * its oldest entry would first step over every entry deleted since V8 last compacted it.)
 */
export class L1Memory {
  /**
   * L1 is read and written only before this time (ms since the epoch): the bus moves it to its last sign of
   * life plus `bus.outageBound`, and to -Infinity while it is not subscribed. A memory-only cache has no bus.
   */
  servesUntil = Number.POSITIVE_INFINITY
  private readonly slots = new Map<string, Slot>()
  private readonly clocks = new Map<string, DependencyClock>()
  private tick = 0
  /** Slots in the order the eviction hand visits them, from `hand` on; removed ones are skipped. */
  private queue: Slot[] = []
  private hand = 0

  constructor(
    private readonly maxEntries: number,
    readonly maxAgeMs: number,
  ) {}

  get size(): number {
    return this.slots.size
  }

  /** The entry, or undefined when absent, past its deadline, invalidated, or L1 is suspended. */
  get(key: string, now: number): L1Entry | undefined {
    if (now >= this.servesUntil) return undefined
    const slot = this.slots.get(key)
    if (slot === undefined) return undefined
    if (now >= slot.entry.deadline || (slot.clocks.length > 0 && this.invalidated(slot))) {
      this.remove(key, slot)
      return undefined
    }
    slot.used = true
    return slot.entry
  }

  set(key: string, entry: L1Entry): void {
    const now = Date.now()
    if (now >= this.servesUntil || entry.deadline <= now) return
    const previous = this.slots.get(key)
    if (previous !== undefined) this.remove(key, previous)
    const deps = entry.recorded.dependencies
    let clocks = NO_CLOCKS
    if (deps.length > 0) {
      const held: DependencyClock[] = []
      for (const { dependency } of deps) {
        let clock = this.clocks.get(dependency)
        if (clock === undefined) {
          clock = { invalidatedAt: 0, users: 0 }
          this.clocks.set(dependency, clock)
        }
        clock.users++
        held.push(clock)
      }
      clocks = held
    }
    const slot = new Slot(key, entry, clocks, this.tick)
    this.slots.set(key, slot)
    this.queue.push(slot)
    if (this.slots.size > this.maxEntries) this.evictOne()
    // Removed slots pile up in the queue when entries are deleted rather than evicted: compact it then.
    if (this.queue.length - this.hand > 2 * this.slots.size + 1024) this.compact()
  }

  delete(key: string): boolean {
    const slot = this.slots.get(key)
    if (slot === undefined) return false
    this.remove(key, slot)
    return true
  }

  /** True when L1 holds a copy of `key` (valid or not yet found invalid). */
  has(key: string): boolean {
    return this.slots.has(key)
  }

  /** True when some copy in L1 recorded `dependency`. */
  tracks(dependency: string): boolean {
    return this.clocks.has(dependency)
  }

  /** Invalidates every copy that recorded `dependency`, in O(1); they are dropped when next read or evicted. */
  dropDependency(dependency: string): void {
    const clock = this.clocks.get(dependency)
    if (clock !== undefined) clock.invalidatedAt = ++this.tick
  }

  /** The keys of the copies still valid (a walk over all of L1: for patterns and probes, not hot paths). */
  *keys(): IterableIterator<string> {
    for (const [key, slot] of this.slots) if (!this.invalidated(slot)) yield key
  }

  /** Drops every entry whose key matches; O(L1 size). */
  dropMatching(pattern: RegExp): void {
    for (const [key, slot] of this.slots) if (pattern.test(key)) this.remove(key, slot)
  }

  clear(): void {
    for (const slot of this.slots.values()) slot.live = false
    this.slots.clear()
    this.clocks.clear()
    this.queue = []
    this.hand = 0
  }

  private invalidated(slot: Slot): boolean {
    const clocks = slot.clocks
    for (let i = 0; i < clocks.length; i++) if (clocks[i]!.invalidatedAt > slot.writtenAt) return true
    return false
  }

  private remove(key: string, slot: Slot): void {
    slot.live = false
    this.slots.delete(key)
    const clocks = slot.clocks
    if (clocks.length === 0) return
    // clocks[i] is the clock of the entry's i-th dependency (see set).
    const deps = slot.entry.recorded.dependencies
    for (let i = 0; i < clocks.length; i++) {
      const clock = clocks[i]!
      const name = deps[i]!.dependency
      if (--clock.users === 0 && this.clocks.get(name) === clock) this.clocks.delete(name)
    }
  }

  /** Evicts the oldest entry not used since the hand last passed (expired or invalid ones go first come). */
  private evictOne(): void {
    const now = turnNow()
    while (this.hand < this.queue.length) {
      const slot = this.queue[this.hand++]!
      if (!slot.live) continue
      if (slot.used && now < slot.entry.deadline && !this.invalidated(slot)) {
        slot.used = false
        this.queue.push(slot)
        continue
      }
      this.remove(slot.key, slot)
      break
    }
    if (this.hand > 4096 && this.hand * 2 > this.queue.length) this.compact()
  }

  private compact(): void {
    this.queue = this.queue.slice(this.hand).filter((slot) => slot.live)
    this.hand = 0
  }
}

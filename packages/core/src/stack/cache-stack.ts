import type { L1Invalidation } from '../bus/wire-format.js'
import type { ResolvedEntryOptions } from '../config/entry-options.js'
import type { CacheEventEmitter } from '../events.js'
import type { StatsCollector } from '../metrics/stats.js'
import type { RedisProtocol, StoredEntry } from '../redis/redis-protocol.js'
import type { L1Entry, L1Memory } from '../tiers/l1-memory.js'
import type { LocalEpochs } from '../tiers/local-epochs.js'
import type { ValueCodec } from '../values/value-codec.js'
import type { Answer, Filled } from './answer.js'
import { type EntryTimes, type Fence, type Recorded, recordedOf, unversioned } from './fence.js'

/** How a loaded value is written. */
export interface FillOptions {
  options: ResolvedEntryOptions
  /** The local invalidation epoch seen before the data was fetched. */
  epoch: number
  /** The versions captured before the loader ran; undefined: write L1 only (Redis failed, or memory-only). */
  fence: Fence | undefined
  /** A refresh or a fill nobody waits for (reported in the `fill` events). */
  background: boolean
}

/** A value that may be served when the loader fails or is slow. */
export interface Fallback {
  readonly value: unknown
  readonly tier: 'l1' | 'l2'
  readonly recorded: Recorded
  readonly times: EntryTimes
}

export interface StackParts {
  l1: L1Memory
  epochs: LocalEpochs
  l2: RedisProtocol | undefined
  codec: ValueCodec
  stats: StatsCollector
  events: CacheEventEmitter
  absorb(operation: string, error: unknown, key?: string): void
  /** Tells the other instances to drop keys from their L1 (the bus); undefined without Redis. */
  publish: ((invalidation: L1Invalidation) => Promise<boolean>) | undefined
  jitterMs: number
  /** 0 (off) or the fraction of the TTL after which a hit triggers a background refresh. */
  refreshFraction: number
}

/**
 * The only writer of L1 and L2: every value that reaches a tier (a fill, `set`, a promotion of an L2 hit,
 * a grace value held after a loader failure) goes through here, so the rules are written once: L2 before
 * L1, L1 only if nothing was invalidated locally since the data was fetched (see LocalEpochs), and every
 * caller gets the value as stored, the same on every tier and instance.
 */
export class CacheStack {
  readonly l1: L1Memory
  readonly epochs: LocalEpochs
  readonly l2: RedisProtocol | undefined

  constructor(private readonly parts: StackParts) {
    this.l1 = parts.l1
    this.epochs = parts.epochs
    this.l2 = parts.l2
  }

  /** An L2 hit: its value, kept in L1 unless an invalidation was applied here since `epoch`. */
  promote<T>(key: string, entry: StoredEntry, epoch: number): Answer<T> {
    const { stats, events, codec, epochs } = this.parts
    const value = codec.decode(entry.data) as T
    stats.l2Hits++
    const times = { expiresAt: entry.expiresAt, graceEnd: entry.graceEnd, createdAt: entry.createdAt }
    if (epochs.of(key) === epoch) this.l1.set(key, this.l1Entry(value, times, entry.recorded))
    if (events.listens('hit')) events.emit('hit', { key, tier: 'l2' })
    return { value, tier: 'l2', recorded: entry.recorded, times }
  }

  /** True when a hit on `entry` should start a background refresh (refresh-ahead). */
  refreshDue(entry: EntryTimes, now: number): boolean {
    const fraction = this.parts.refreshFraction
    return fraction > 0 && now >= entry.createdAt + (entry.expiresAt - entry.createdAt) * fraction
  }

  /** A stale L2 entry as a grace fallback. */
  fallbackOf(entry: StoredEntry): Fallback {
    return {
      value: this.parts.codec.decode(entry.data),
      tier: 'l2',
      recorded: entry.recorded,
      times: { expiresAt: entry.expiresAt, graceEnd: entry.graceEnd, createdAt: entry.createdAt },
    }
  }

  /**
   * Writes a loaded value: L2 only if no fenced generation moved, then L1 only if nothing was invalidated
   * locally since `epoch`. Without a fence (Redis failed before the load, or memory-only) only L1 is written.
   */
  async fill<T>(key: string, loaded: T, how: FillOptions): Promise<Filled<T>> {
    const { options, epoch, fence, background } = how
    const { stats, events, codec, epochs, l2 } = this.parts
    const data = codec.encode(key, loaded)
    const value = codec.decode(data) as T
    const times = this.timesFor(options)
    const recorded = fence === undefined ? unversioned(options.deps) : recordedOf(fence)
    const filled = (outcome: Filled<T>['outcome']): Filled<T> => ({ outcome, value, recorded, times })
    if (l2 !== undefined && fence !== undefined) {
      let written: boolean
      try {
        written = await l2.fill(key, { ...times, data }, fence)
      } catch (error) {
        this.parts.absorb('l2.fill', error, key)
        return filled('not-written')
      }
      if (!written) return this.rejected(key, background, filled('stale'))
    }
    if (epochs.of(key) !== epoch) return this.rejected(key, background, filled('stale'))
    stats.fills++
    this.l1.set(key, this.l1Entry(value, times, recorded))
    if (events.listens('fill')) events.emit('fill', { key, background })
    return filled('filled')
  }

  /**
   * Values the caller knows are current: L2 (bumping each key's generation, so older fills in flight are
   * rejected), then one bus message for all, then L1. Every value is serialized before anything is written,
   * so an unserializable one fails the call whole. A Redis failure is absorbed (emitted), not thrown.
   */
  async set(
    items: ReadonlyArray<{ key: string; value: unknown; options: ResolvedEntryOptions }>,
  ): Promise<void> {
    const { codec, epochs, l2, publish } = this.parts
    const writes = items.map(({ key, value, options }) => {
      const data = codec.encode(key, value)
      return { key, options, data, stored: codec.decode(data), times: this.timesFor(options, false) }
    })
    for (const { key } of writes) epochs.bumpKey(key)
    const recorded = writes.map(({ options }) => unversioned(options.deps))
    if (l2 !== undefined) {
      // Concurrent calls: the connection writes each round (the versions, then the writes) together.
      await Promise.all(
        writes.map(async ({ key, options, data, times }, i) => {
          try {
            const versions = await l2.currentVersions(options.deps)
            await l2.set(key, { ...times, data }, versions)
            recorded[i] = versions
          } catch (error) {
            this.parts.absorb('l2.set', error, key)
          }
        }),
      )
      // Other instances drop their copies only once L2 holds the new value, or they could reload the old one.
      await publish?.({ keys: writes.map(({ key }) => key) })
    }
    writes.forEach(({ key, stored, times }, i) => {
      // A read that fetched the old value while we wrote must not put it into L1 after us.
      epochs.bumpKey(key)
      this.l1.set(key, { ...this.l1Entry(stored, times, recorded[i]!), refreshAt: Number.POSITIVE_INFINITY })
    })
  }

  /** After a loader failure: keep answering `fallback` from L1 until `until` instead of calling the loader. */
  holdGrace(key: string, fallback: Fallback, until: number, epoch: number): void {
    if (this.parts.epochs.of(key) !== epoch) return
    const times = { ...fallback.times, expiresAt: until }
    this.l1.set(key, {
      ...this.l1Entry(fallback.value, times, fallback.recorded),
      refreshAt: Number.POSITIVE_INFINITY,
    })
  }

  private rejected<T>(key: string, background: boolean, filled: Filled<T>): Filled<T> {
    this.parts.stats.fillsRejectedStale++
    this.parts.events.emit('fill-rejected-stale', { key, background })
    return filled
  }

  private timesFor(options: ResolvedEntryOptions, jitter = true): EntryTimes {
    const now = Date.now()
    const extra = jitter && this.parts.jitterMs > 0 ? Math.floor(Math.random() * this.parts.jitterMs) : 0
    const expiresAt = now + options.ttlMs + extra
    return { expiresAt, graceEnd: expiresAt + options.graceMs, createdAt: now }
  }

  private l1Entry(value: unknown, times: EntryTimes, recorded: Recorded): L1Entry {
    const fraction = this.parts.refreshFraction
    const { expiresAt, graceEnd, createdAt } = times
    return {
      value,
      expiresAt,
      refreshAt: fraction > 0 ? createdAt + (expiresAt - createdAt) * fraction : Number.POSITIVE_INFINITY,
      graceEnd,
      createdAt,
      deadline: Math.min(graceEnd, Date.now() + this.l1.maxAgeMs),
      recorded,
    }
  }
}

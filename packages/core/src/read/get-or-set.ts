import type { EntryOptions, EntryOptionsResolver, ResolvedEntryOptions } from '../config/entry-options.js'
import type { CacheEventEmitter } from '../events.js'
import type { StatsCollector } from '../metrics/stats.js'
import type { Answer } from '../stack/answer.js'
import type { CacheStack, Fallback } from '../stack/cache-stack.js'
import { type Fence, generationOf, stampOf } from '../stack/fence.js'
import { turnNow, turnTracer } from '../tiers/clock.js'
import type { L1Entry, L1Memory } from '../tiers/l1-memory.js'
import type { CacheIdentity } from '../tracing/cache-identity.js'
import { readInSpan, traceL1Hit, tracing } from '../tracing/cache-tracing.js'
import type { LeaseWaiter } from './lease.js'
import type { Loader } from './loader-context.js'
import type { LoaderRunner } from './loader-runner.js'
import type { RefreshAhead } from './refresh-ahead.js'
import { Singleflight } from './singleflight.js'

/** What `getOrSetWithInfo` answers. */
export interface Served<T> {
  readonly value: T
  readonly tier: Answer<T>['tier']
  /** Equal for every read of one fill, on any tier and instance; different once the entry's key, tags or scopes were invalidated. */
  readonly generation: string
}

const answeredValue = <T>(answer: Answer<T>): T => answer.value
const served = <T>(answer: Answer<T>): Served<T> => ({
  value: answer.value,
  tier: answer.tier,
  generation: generationOf(stampOf(answer.recorded, answer.times)),
})

export interface GetOrSetParts {
  stack: CacheStack
  entryOptions: EntryOptionsResolver
  loaders: LoaderRunner
  refresh: RefreshAhead
  lease: LeaseWaiter | undefined
  stats: StatsCollector
  events: CacheEventEmitter
  /** What the spans name the cache by. */
  identity: CacheIdentity
  absorb(operation: string, error: unknown, key?: string): void
}

/**
 * The get-or-set flow: L1 (a lookup, nothing else), then singleflight, then one L2 read, then the lease
 * (when on), then the loader and the fenced fill. Entry options are resolved (and validated) only past an
 * L1 hit.
 */
export class GetOrSet {
  private readonly flights = new Singleflight()
  // Read on every L1 hit: one field load each, not a walk through `parts`.
  private readonly l1: L1Memory
  private readonly stats: StatsCollector
  private readonly events: CacheEventEmitter
  private readonly identity: CacheIdentity

  constructor(private readonly parts: GetOrSetParts) {
    this.l1 = parts.stack.l1
    this.stats = parts.stats
    this.events = parts.events
    this.identity = parts.identity
  }

  /** `cachedFunction` names the `wrap`ped function the key belongs to. */
  getOrSet<T>(
    key: string,
    loader: Loader<T>,
    options: EntryOptions | undefined,
    cachedFunction?: string,
  ): Promise<T> {
    const now = turnNow()
    const hit = this.l1.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      this.stats.l1Hits++
      if (now >= hit.refreshAt) this.refreshFromL1(key, hit, loader, options, cachedFunction)
      if (this.events.hitListened) this.events.emit('hit', { key, tier: 'l1' })
      // The tracer as of this turn: a field read, where looking the provider up would cost a tenth of the hit.
      const tracer = turnTracer()
      if (tracer !== undefined) traceL1Hit(tracer, 'getOrSet', this.identity, key, cachedFunction)
      return Promise.resolve(hit.value as T)
    }
    return this.tracedPastL1(key, loader, options, cachedFunction, hit).then(answeredValue)
  }

  /** `getOrSet` that also says which tier answered and under which generation (hashed only here). */
  getOrSetWithInfo<T>(key: string, loader: Loader<T>, options: EntryOptions | undefined): Promise<Served<T>> {
    const now = turnNow()
    const hit = this.l1.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      this.stats.l1Hits++
      if (now >= hit.refreshAt) this.refreshFromL1(key, hit, loader, options, undefined)
      if (this.events.hitListened) this.events.emit('hit', { key, tier: 'l1' })
      const tracer = turnTracer()
      if (tracer !== undefined) traceL1Hit(tracer, 'getOrSet', this.identity, key)
      return Promise.resolve(
        served({ value: hit.value as T, tier: 'l1', recorded: hit.recorded, times: hit }),
      )
    }
    return this.tracedPastL1(key, loader, options, undefined, hit).then(served)
  }

  /** The fresh value from L1 or L2, or undefined; never calls a loader. */
  async get<T>(key: string, options: EntryOptions | undefined): Promise<T | undefined> {
    const { stack, stats, events } = this.parts
    const now = turnNow()
    const hit = stack.l1.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      stats.l1Hits++
      if (events.hitListened) events.emit('hit', { key, tier: 'l1' })
      const tracer = turnTracer()
      if (tracer !== undefined) traceL1Hit(tracer, 'get', this.identity, key)
      return hit.value as T
    }
    stats.l1Misses++
    const tracer = tracing.tracer()
    const answer =
      tracer === undefined
        ? await this.getFromL2<T>(key, options)
        : await readInSpan(tracer, 'get', this.identity, key, undefined, () =>
            this.getFromL2<T>(key, options),
          )
    return answer?.value
  }

  /** `get` past L1: one L2 read; undefined when nothing fresh is there (or Redis failed, which is absorbed). */
  private async getFromL2<T>(key: string, options: EntryOptions | undefined): Promise<Answer<T> | undefined> {
    const { stack, stats } = this.parts
    const l2 = stack.l2
    if (l2 === undefined) return this.missed(key)
    const deps = options === undefined ? undefined : this.parts.entryOptions.resolve(options).deps
    const started = performance.now()
    const epoch = stack.epochs.of(key)
    try {
      const read = await l2.read(key, deps, Date.now())
      if (read.status === 'fresh') return stack.promote<T>(key, read.entry!, epoch)
      stats.l2Misses++
    } catch (error) {
      this.parts.absorb('l2.read', error, key)
    } finally {
      this.recordLatency(key, started)
    }
    return this.missed(key)
  }

  /** An L1 hit past the refresh point: one background reload (refresh-ahead). */
  private refreshFromL1<T>(
    key: string,
    hit: L1Entry,
    loader: Loader<T>,
    options: EntryOptions | undefined,
    cachedFunction: string | undefined,
  ): void {
    hit.refreshAt = Number.POSITIVE_INFINITY
    this.parts.refresh.start(
      key,
      loader,
      this.parts.entryOptions.resolve(options, cachedFunction),
      hit.value as T,
    )
  }

  /** `pastL1` in a `cache getOrSet` span when a tracer provider is registered. */
  private tracedPastL1<T>(
    key: string,
    loader: Loader<T>,
    options: EntryOptions | undefined,
    cachedFunction: string | undefined,
    l1Copy: L1Entry | undefined,
  ): Promise<Answer<T>> {
    const tracer = tracing.tracer()
    if (tracer === undefined) return this.pastL1(key, loader, options, cachedFunction, l1Copy)
    return readInSpan(tracer, 'getOrSet', this.identity, key, cachedFunction, () =>
      this.pastL1(key, loader, options, cachedFunction, l1Copy),
    ) as Promise<Answer<T>>
  }

  private pastL1<T>(
    key: string,
    loader: Loader<T>,
    options: EntryOptions | undefined,
    cachedFunction: string | undefined,
    l1Copy: L1Entry | undefined,
  ): Promise<Answer<T>> {
    this.parts.stats.l1Misses++
    let resolved: ResolvedEntryOptions
    try {
      resolved = this.parts.entryOptions.resolve(options, cachedFunction)
    } catch (error) {
      return Promise.reject(error)
    }
    const epoch = this.parts.stack.epochs.of(key)
    return this.flights.run(key, epoch, () => this.load(key, loader, resolved, epoch, l1Copy))
  }

  private async load<T>(
    key: string,
    loader: Loader<T>,
    options: ResolvedEntryOptions,
    epoch: number,
    l1Copy: L1Entry | undefined,
  ): Promise<Answer<T>> {
    const started = performance.now()
    const { stack, stats, events, loaders, refresh, lease } = this.parts
    let fallback: Fallback | undefined =
      l1Copy !== undefined && Date.now() < l1Copy.graceEnd
        ? { value: l1Copy.value, tier: 'l1', recorded: l1Copy.recorded, times: l1Copy }
        : undefined
    let fence: Fence | undefined
    try {
      const l2 = stack.l2
      if (l2 !== undefined) {
        try {
          const now = Date.now()
          const read = await l2.read(key, options.deps, now)
          if (read.status === 'fresh') {
            const answer = stack.promote<T>(key, read.entry!, epoch)
            if (stack.refreshDue(read.entry!, now))
              refresh.start(key, loader, options, answer.value, read.fence)
            return answer
          }
          stats.l2Misses++
          // Redis answered: only its own past-TTL value may be a fallback. An L1 copy that Redis no
          // longer has may have been invalidated (its bus message still on the way).
          fallback = read.status === 'stale' ? stack.fallbackOf(read.entry!) : undefined
          fence = read.fence ?? (await l2.captureFence(key, options.deps))
        } catch (error) {
          this.parts.absorb('l2.read', error, key)
        }
      }
      if (events.listens('miss')) events.emit('miss', { key })
      if (fence !== undefined && lease !== undefined) {
        const waited = await lease.wait(key, options, epoch, fence)
        if (waited.kind === 'hit') return waited.answer as Answer<T>
        const afterFill = waited.kind === 'leased' ? () => lease.release(key) : undefined
        return await loaders.run({ key, loader, options, epoch, fence: waited.fence, fallback, afterFill })
      }
      return await loaders.run({ key, loader, options, epoch, fence, fallback, afterFill: undefined })
    } finally {
      this.recordLatency(key, started)
    }
  }

  private recordLatency(key: string, started: number): void {
    const { stats, events } = this.parts
    const ms = performance.now() - started
    stats.latency.recordMs(ms)
    if (events.listens('latency')) events.emit('latency', { key, ms })
  }

  private missed(key: string): undefined {
    this.parts.events.emit('miss', { key })
    return undefined
  }
}

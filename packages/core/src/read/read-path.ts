import { randomBytes } from 'node:crypto'
import type { EntryOptions, EntryOptionsResolver, ResolvedEntryOptions } from '../config/entry-options.js'
import { CacheError } from '../errors.js'
import type { CacheParts } from '../parts.js'
import { encodeStamp, generationOf } from '../tiers/entry-format.js'
import type { L1Entry } from '../tiers/l1-memory.js'
import type { L2Read } from '../tiers/l2-redis.js'
import { LazyLoaderContext } from './loader-context.js'
import { awaitLoader } from './loader-timeouts.js'
import { Singleflight } from './singleflight.js'

/** What a loader receives. */
export interface LoaderContext<T> {
  readonly key: string
  /** Aborted when the hard timeout gives up on this loader. */
  readonly signal: AbortSignal
  /** The value past its TTL but within grace, if there is one. */
  readonly stale: T | undefined
}

export type Loader<T> = (context: LoaderContext<T>) => Promise<T> | T

/** Which tier answered a read. */
export type Tier = 'l1' | 'l2' | 'loader'

/** What `getOrSetWithInfo` answers. */
export interface Served<T> {
  readonly value: T
  readonly tier: Tier
  /** Equal for every read of one fill, on any tier and instance; different once the entry's key, tags or scopes were invalidated. */
  readonly generation: string
}

/** A read past L1: the value, where it came from, and its fill's stamp (hashed only on request). */
interface Answer<T> {
  value: T
  tier: Tier
  stamp: string
}

const answeredValue = <T>(answer: Answer<T>): T => answer.value
const withGeneration = <T>(answer: Answer<T>): Served<T> => ({
  value: answer.value,
  tier: answer.tier,
  generation: generationOf(answer.stamp),
})

/** A value that may be served when the loader fails or is slow. */
interface Fallback {
  value: unknown
  graceEnd: number
  deps: readonly string[]
  tier: 'l1' | 'l2'
  stamp: string
}

/** What a fill did: `stale` when an invalidation meanwhile made it a no-op. */
type FillOutcome = 'filled' | 'stale' | 'not-written'

interface Filled {
  outcome: FillOutcome
  stamp: string
}

/** Generation versions captured before a loader started; a fill lands only if they still hold. */
interface Capture {
  counters: string[]
  versions: string[]
}

/**
 * The getOrSet/get path: L1, then one EVALSHA on L2, then the loader, with singleflight,
 * the cross-process lease, fail-safe, timeouts and refresh-ahead. Every write into L1 is
 * conditional on the local invalidation epoch seen before the data was fetched.
 */
export class ReadPath {
  private readonly flights = new Singleflight()
  private readonly refreshing = new Set<string>()
  private readonly refreshFraction: number
  private readonly leaseToken: string

  constructor(
    private readonly parts: CacheParts,
    private readonly entryOptions: EntryOptionsResolver,
  ) {
    const fraction = parts.options.refreshAhead
    this.refreshFraction = fraction > 0 && fraction < 1 ? fraction : 0
    this.leaseToken = `${parts.instanceId}.${randomBytes(4).toString('hex')}`
  }

  /**
   * Entry options are resolved (and validated) only past an L1 hit, which stays a lookup;
   * `cachedFunction` names the `wrap`ped function the key belongs to.
   */
  getOrSet<T>(
    key: string,
    loader: Loader<T>,
    options: EntryOptions | undefined,
    cachedFunction?: string,
  ): Promise<T> {
    const now = Date.now()
    const hit = this.parts.l1.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      this.l1Hit(key, hit, now, loader, options, cachedFunction)
      return Promise.resolve(hit.value as T)
    }
    return this.pastL1(key, loader, options, cachedFunction, hit).then(answeredValue)
  }

  /** `getOrSet` that also says which tier answered and under which generation; the hash is computed only here. */
  getOrSetWithInfo<T>(key: string, loader: Loader<T>, options: EntryOptions | undefined): Promise<Served<T>> {
    const now = Date.now()
    const hit = this.parts.l1.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      this.l1Hit(key, hit, now, loader, options, undefined)
      return Promise.resolve({ value: hit.value as T, tier: 'l1', generation: generationOf(hit.stamp) })
    }
    return this.pastL1(key, loader, options, undefined, hit).then(withGeneration)
  }

  private l1Hit<T>(
    key: string,
    hit: L1Entry,
    now: number,
    loader: Loader<T>,
    options: EntryOptions | undefined,
    cachedFunction: string | undefined,
  ): void {
    this.parts.stats.l1Hits++
    if (now >= hit.refreshAt) {
      hit.refreshAt = Number.POSITIVE_INFINITY
      this.refreshInBackground(
        key,
        loader,
        this.entryOptions.resolve(options, cachedFunction),
        hit.value as T,
        undefined,
      )
    }
    if (this.parts.events.listens('hit')) this.parts.events.emit('hit', { key, tier: 'l1' })
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
      resolved = this.entryOptions.resolve(options, cachedFunction)
    } catch (error) {
      return Promise.reject(error)
    }
    const epoch = this.parts.epochs.of(key)
    return this.flights.run(key, epoch, () => this.load(key, loader, resolved, epoch, l1Copy))
  }

  async get<T>(key: string): Promise<T | undefined> {
    const now = Date.now()
    const hit = this.parts.l1.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      this.parts.stats.l1Hits++
      if (this.parts.events.listens('hit')) this.parts.events.emit('hit', { key, tier: 'l1' })
      return hit.value as T
    }
    this.parts.stats.l1Misses++
    const l2 = this.parts.l2
    if (l2 === undefined) return this.missed(key)
    const started = performance.now()
    const epoch = this.parts.epochs.of(key)
    try {
      const read = await l2.read(key, [], 0, 0)
      if (read.status === 'fresh') return this.promote<T>(key, read, epoch).value
      this.parts.stats.l2Misses++
    } catch (error) {
      this.parts.absorb('l2.read', error, key)
    } finally {
      this.recordLatency(key, started)
    }
    return this.missed(key)
  }

  private recordLatency(key: string, started: number): void {
    const ms = performance.now() - started
    this.parts.stats.latency.recordMs(ms)
    if (this.parts.events.listens('latency')) this.parts.events.emit('latency', { key, ms })
  }

  private missed(key: string): undefined {
    this.parts.events.emit('miss', { key })
    return undefined
  }

  private async load<T>(
    key: string,
    loader: Loader<T>,
    options: ResolvedEntryOptions,
    epoch: number,
    l1Copy: L1Entry | undefined,
  ): Promise<Answer<T>> {
    const started = performance.now()
    const { l2, stats } = this.parts
    let fallback: Fallback | undefined =
      l1Copy !== undefined && Date.now() < l1Copy.graceEnd
        ? {
            value: l1Copy.value,
            graceEnd: l1Copy.graceEnd,
            deps: l1Copy.deps,
            tier: 'l1',
            stamp: l1Copy.stamp,
          }
        : undefined
    let capture: Capture | undefined
    try {
      if (l2 !== undefined) {
        const counters = this.countersFor(key, options)
        try {
          const read = await l2.read(key, counters, this.refreshFraction, options.ttlMs + options.graceMs)
          if (read.status === 'fresh') {
            const answer = this.promote<T>(key, read, epoch)
            if (read.versions.length > 0) {
              this.refreshInBackground(key, loader, options, answer.value, {
                counters,
                versions: read.versions,
              })
            }
            return answer
          }
          stats.l2Misses++
          // Redis answered: only its own past-TTL value may be a fallback. An L1 copy that Redis no
          // longer has may have been invalidated (its bus message still on the way).
          const stale = read.status === 'stale' ? read.entry : undefined
          fallback =
            stale === undefined
              ? undefined
              : {
                  value: JSON.parse(stale.data),
                  graceEnd: stale.graceEnd,
                  deps: stale.deps,
                  tier: 'l2',
                  stamp: stale.stamp,
                }
          capture = { counters, versions: read.versions }
        } catch (error) {
          this.parts.absorb('l2.read', error, key)
        }
      }
      if (this.parts.events.listens('miss')) this.parts.events.emit('miss', { key })
      if (capture !== undefined && this.parts.options.lease !== undefined) {
        const waited = await this.waitForLease(key, options, epoch, capture)
        if (waited.kind === 'hit') return waited.answer as Answer<T>
        capture = waited.capture
        if (waited.kind === 'leased') {
          return await this.loadAndFill(key, loader, options, epoch, capture, fallback, () =>
            this.releaseLease(key),
          )
        }
      }
      return await this.loadAndFill(key, loader, options, epoch, capture, fallback, undefined)
    } finally {
      this.recordLatency(key, started)
    }
  }

  private promote<T>(key: string, read: L2Read, epoch: number): Answer<T> {
    const entry = read.entry!
    const value = JSON.parse(entry.data) as T
    this.parts.stats.l2Hits++
    // A local invalidation since we asked Redis means this answer may predate it: do not keep it.
    if (this.parts.epochs.of(key) === epoch) {
      this.parts.l1.set(
        key,
        this.l1Entry(value, entry.expiresAt, entry.graceEnd, entry.createdAt, entry.deps, entry.stamp),
      )
    }
    if (this.parts.events.listens('hit')) this.parts.events.emit('hit', { key, tier: 'l2' })
    return { value, tier: 'l2', stamp: entry.stamp }
  }

  private async loadAndFill<T>(
    key: string,
    loader: Loader<T>,
    options: ResolvedEntryOptions,
    epoch: number,
    capture: Capture | undefined,
    fallback: Fallback | undefined,
    afterFill: (() => void) | undefined,
  ): Promise<Answer<T>> {
    const { stats, options: cacheOptions } = this.parts
    stats.loaderCalls++
    const context = new LazyLoaderContext(key, fallback?.value as T | undefined)
    const loading = Promise.resolve().then(() => loader(context))
    // The fill runs whenever the loader finishes, even after the caller was answered from grace;
    // it is conditional on the versions captured above, so a late result cannot land if stale.
    const filled = loading.then(
      (value) => this.fill(key, value, options, epoch, capture, false),
      () => undefined,
    )
    if (afterFill !== undefined) void filled.finally(afterFill)
    const soft = fallback === undefined ? undefined : cacheOptions.timeouts.soft
    const outcome = await awaitLoader(loading, soft, cacheOptions.timeouts.hard)
    switch (outcome.kind) {
      case 'value':
        return { value: outcome.value, tier: 'loader', stamp: (await filled)?.stamp ?? '' }
      case 'soft-timeout':
        stats.softTimeouts++
        return this.serveFallback(key, fallback!, 'soft-timeout', epoch)
      case 'hard-timeout':
        stats.hardTimeouts++
        context.abort()
        if (fallback !== undefined) return this.serveFallback(key, fallback, 'hard-timeout', epoch)
        throw new CacheError(
          'CS_ERR_LOADER_HARD_TIMEOUT',
          `loader for ${JSON.stringify(key)} did not finish within the hard timeout of ${cacheOptions.timeouts.hard} ms`,
        )
      case 'error':
        stats.loaderErrors++
        if (fallback !== undefined) return this.serveFallback(key, fallback, 'error', epoch)
        throw outcome.error
    }
  }

  private serveFallback<T>(
    key: string,
    fallback: Fallback,
    reason: 'error' | 'soft-timeout' | 'hard-timeout',
    epoch: number,
  ): Answer<T> {
    this.parts.stats.failSafeServed++
    this.parts.events.emit('fail-safe', { key, reason })
    if (reason === 'error' && this.parts.epochs.of(key) === epoch) {
      // Back off: keep answering from grace for a while instead of calling a failing loader each time.
      const now = Date.now()
      const until = Math.min(now + this.parts.options.graceBackoff, fallback.graceEnd)
      this.parts.l1.set(key, {
        value: fallback.value,
        expiresAt: until,
        refreshAt: Number.POSITIVE_INFINITY,
        graceEnd: fallback.graceEnd,
        deadline: Math.min(fallback.graceEnd, now + this.parts.l1.maxAgeMs),
        deps: fallback.deps,
        stamp: fallback.stamp,
      })
    }
    return { value: fallback.value as T, tier: fallback.tier, stamp: fallback.stamp }
  }

  /** Writes a loaded value: L2 only if no captured generation moved, then L1 only if nothing was invalidated locally. Says whether it was written, rejected as stale, or not attempted (no value, or Redis failed). */
  private async fill(
    key: string,
    value: unknown,
    options: ResolvedEntryOptions,
    epoch: number,
    capture: Capture | undefined,
    background: boolean,
  ): Promise<Filled> {
    if (value === undefined) return { outcome: 'not-written', stamp: '' }
    const { l2, stats, events, options: cacheOptions } = this.parts
    const now = Date.now()
    const jitter = cacheOptions.jitter > 0 ? Math.floor(Math.random() * cacheOptions.jitter) : 0
    const expiresAt = now + options.ttlMs + jitter
    const graceEnd = expiresAt + options.graceMs
    // fill.lua records the namespace generation and the entry's own dependencies (past the key
    // generation and pattern epoch); a value served from a fill that did not land keeps the stamp it
    // was loaded under.
    let stamp = encodeStamp(
      ['n', ...options.deps],
      capture?.versions.slice(2) ?? [],
      expiresAt,
      graceEnd,
      now,
    )
    if (l2 !== undefined && capture !== undefined) {
      let written: boolean
      try {
        let versions = capture.versions
        if (this.parts.faults.fillWithoutGenerationCheck) {
          versions = (await l2.read(key, capture.counters, -1, options.ttlMs + options.graceMs)).versions
          stamp = encodeStamp(['n', ...options.deps], versions.slice(2), expiresAt, graceEnd, now)
        }
        written = await l2.fill(
          {
            key,
            counters: capture.counters,
            data: JSON.stringify(value),
            expiresAt,
            graceEnd,
            createdAt: now,
            px: graceEnd - now,
          },
          versions,
        )
      } catch (error) {
        this.parts.absorb('l2.fill', error, key)
        return { outcome: 'not-written', stamp }
      }
      if (!written) {
        stats.fillsRejectedStale++
        events.emit('fill-rejected-stale', { key, background })
        return { outcome: 'stale', stamp }
      }
    }
    if (this.parts.epochs.of(key) !== epoch) {
      stats.fillsRejectedStale++
      events.emit('fill-rejected-stale', { key, background })
      return { outcome: 'stale', stamp }
    }
    stats.fills++
    this.parts.l1.set(key, this.l1Entry(value, expiresAt, graceEnd, now, options.deps, stamp))
    if (events.listens('fill')) events.emit('fill', { key, background })
    return { outcome: 'filled', stamp }
  }

  /** Refresh-ahead: one background load per key; `capture` is given when the L2 read already took it. */
  private refreshInBackground<T>(
    key: string,
    loader: Loader<T>,
    options: ResolvedEntryOptions,
    current: T,
    capture: Capture | undefined,
  ): void {
    if (this.refreshing.has(key)) return
    this.refreshing.add(key)
    this.reload(key, loader, options, current, capture)
      .catch((error: unknown) => {
        this.parts.stats.loaderErrors++
        this.parts.absorb('refresh-ahead', error, key)
      })
      .finally(() => this.refreshing.delete(key))
  }

  /**
   * Loads `key` again and fills it with the race-proof fill: the generations are captured before the
   * loader runs (unless `capture` already holds them), so an invalidation meanwhile wins.
   */
  async reload<T>(
    key: string,
    loader: Loader<T>,
    options: ResolvedEntryOptions,
    current: T | undefined,
    capture: Capture | undefined,
  ): Promise<FillOutcome> {
    const epoch = this.parts.epochs.of(key)
    const { l2, stats } = this.parts
    let taken = capture
    if (taken === undefined && l2 !== undefined) {
      const counters = this.countersFor(key, options)
      const read = await l2.read(key, counters, -1, options.ttlMs + options.graceMs)
      taken = { counters, versions: read.versions }
    }
    stats.loaderCalls++
    const value = await loader(new LazyLoaderContext(key, current))
    return (await this.fill(key, value, options, epoch, taken, true)).outcome
  }

  /**
   * Cross-process stampede protection: take the lease, or wait for its holder's fill (polling the
   * read script) until the wait bound, then load anyway. Returns fresh versions for our own load.
   */
  private async waitForLease(
    key: string,
    options: ResolvedEntryOptions,
    epoch: number,
    capture: Capture,
  ): Promise<{ kind: 'hit'; answer: Answer<unknown> } | { kind: 'leased' | 'own'; capture: Capture }> {
    const l2 = this.parts.l2!
    const lease = this.parts.options.lease!
    const deadline = Date.now() + lease.wait
    let current = capture
    let delay = 2
    try {
      while (true) {
        if (await l2.acquireLease(key, this.leaseToken, current.versions[0]!, lease.ttl)) {
          // The previous holder may have filled and released between our miss and this acquire:
          // look once more, or we would load a value that is already there.
          const recheck = await l2.read(key, current.counters, 0, options.ttlMs + options.graceMs)
          if (recheck.status === 'fresh') {
            this.releaseLease(key)
            return { kind: 'hit', answer: this.promote(key, recheck, epoch) }
          }
          return { kind: 'leased', capture: { counters: current.counters, versions: recheck.versions } }
        }
        if (Date.now() + delay > deadline) return { kind: 'own', capture: current }
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, 50)
        const read = await l2.read(key, current.counters, 0, options.ttlMs + options.graceMs)
        if (read.status === 'fresh') return { kind: 'hit', answer: this.promote(key, read, epoch) }
        current = { counters: current.counters, versions: read.versions }
      }
    } catch (error) {
      this.parts.absorb('l2.lease', error, key)
      return { kind: 'own', capture: current }
    }
  }

  private releaseLease(key: string): void {
    this.parts.l2!.releaseLease(key, this.leaseToken).catch((error: unknown) => {
      this.parts.absorb('l2.lease', error, key)
    })
  }

  /** Counters a fill is fenced by: key generation, pattern epoch, namespace, then the entry's own dependencies. */
  private countersFor(key: string, options: ResolvedEntryOptions): string[] {
    const { layout } = this.parts
    const counters = [layout.keyGeneration(key), layout.patternEpoch, layout.namespaceGeneration]
    for (const dep of options.deps) counters.push(layout.counter(dep))
    return counters
  }

  private l1Entry(
    value: unknown,
    expiresAt: number,
    graceEnd: number,
    createdAt: number,
    deps: readonly string[],
    stamp: string,
  ): L1Entry {
    const fraction = this.refreshFraction
    return {
      value,
      expiresAt,
      refreshAt: fraction > 0 ? createdAt + (expiresAt - createdAt) * fraction : Number.POSITIVE_INFINITY,
      graceEnd,
      deadline: Math.min(graceEnd, Date.now() + this.parts.l1.maxAgeMs),
      deps,
      stamp,
    }
  }
}

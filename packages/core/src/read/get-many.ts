import type { EntryOptions, EntryOptionsResolver, ResolvedEntryOptions } from '../config/entry-options.js'
import { CacheError } from '../errors.js'
import type { CacheEventEmitter } from '../events.js'
import type { StatsCollector } from '../metrics/stats.js'
import type { CacheStack, Fallback } from '../stack/cache-stack.js'
import type { Fence } from '../stack/fence.js'
import { turnNow } from '../tiers/clock.js'
import { LazyLoaderContext } from './loader-context.js'
import { awaitLoader } from './loader-timeouts.js'

/** What `getMany`'s loader receives: the keys neither tier had, and the hard timeout's signal. */
export interface ManyLoaderContext {
  readonly keys: readonly string[]
  readonly signal: AbortSignal
}

/** Loads the missing keys at once (one query); a key it leaves out answers undefined and is not cached. */
export type ManyLoader<T> = (
  context: ManyLoaderContext,
) => Promise<ReadonlyMap<string, T>> | ReadonlyMap<string, T>

/** Entry options of `getMany`: the same for every key, or per key. */
export type ManyEntryOptions = EntryOptions | ((key: string) => EntryOptions | undefined)

export interface GetManyParts {
  stack: CacheStack
  entryOptions: EntryOptionsResolver
  stats: StatsCollector
  events: CacheEventEmitter
  timeouts: { soft?: number | undefined; hard?: number | undefined }
  absorb(operation: string, error: unknown, key?: string): void
}

/** One key past L1. */
interface Pending {
  key: string
  at: number[]
  options: ResolvedEntryOptions
  epoch: number
  fence?: Fence
  fallback?: Fallback
}

/**
 * Many keys in one round trip: L1 for each, one MGET for all the others (entries and their counters), one
 * loader call for what neither tier had, and their fills written together. Fills are fenced like any other.
 * Unlike `getOrSet` there is no singleflight or lease across calls, and no soft timeout unless every
 * missing key has a grace value.
 */
export class GetMany {
  constructor(private readonly parts: GetManyParts) {}

  async getMany<T>(
    keys: readonly string[],
    loader: ManyLoader<T>,
    options: ManyEntryOptions | undefined,
  ): Promise<Array<T | undefined>> {
    const { stack, stats, entryOptions } = this.parts
    const answers = new Array<T | undefined>(keys.length)
    const byKey = new Map<string, Pending>()
    const now = turnNow()
    keys.forEach((key, i) => {
      const hit = stack.l1.get(key, now)
      if (hit !== undefined && now < hit.expiresAt) {
        stats.l1Hits++
        answers[i] = hit.value as T
        return
      }
      stats.l1Misses++
      const known = byKey.get(key)
      if (known !== undefined) {
        known.at.push(i)
        return
      }
      const resolved = entryOptions.resolve(typeof options === 'function' ? options(key) : options)
      const pending: Pending = { key, at: [i], options: resolved, epoch: stack.epochs.of(key) }
      if (hit !== undefined && Date.now() < hit.graceEnd)
        pending.fallback = { value: hit.value, tier: 'l1', recorded: hit.recorded, times: hit }
      byKey.set(key, pending)
    })
    if (byKey.size === 0) return answers
    const missing = await this.readL2([...byKey.values()], answers)
    if (missing.length === 0) return answers
    await this.load(missing, loader, answers)
    return answers
  }

  /** One MGET for every key past L1; answers the hits and returns the misses (with fence and fallback). */
  private async readL2<T>(pending: Pending[], answers: Array<T | undefined>): Promise<Pending[]> {
    const { stack, stats } = this.parts
    const l2 = stack.l2
    if (l2 === undefined) return pending
    let reads: Awaited<ReturnType<typeof l2.readMany>>
    try {
      reads = await l2.readMany(
        pending.map((p) => p.key),
        pending.map((p) => p.options.deps),
        Date.now(),
      )
    } catch (error) {
      this.parts.absorb('l2.read', error)
      return pending
    }
    const missing: Pending[] = []
    pending.forEach((p, i) => {
      const read = reads[i]!
      if (read.status === 'fresh') {
        const { value } = stack.promote<T>(p.key, read.entry!, p.epoch)
        for (const at of p.at) answers[at] = value
        return
      }
      stats.l2Misses++
      p.fallback = read.status === 'stale' ? stack.fallbackOf(read.entry!) : undefined
      if (read.fence !== undefined) p.fence = read.fence
      missing.push(p)
    })
    await Promise.all(
      missing
        .filter((p) => p.fence === undefined)
        .map(async (p) => {
          try {
            p.fence = await l2.captureFence(p.key, p.options.deps)
          } catch (error) {
            this.parts.absorb('l2.read', error, p.key)
          }
        }),
    )
    return missing
  }

  private async load<T>(
    missing: Pending[],
    loader: ManyLoader<T>,
    answers: Array<T | undefined>,
  ): Promise<void> {
    const { stack, stats, events, timeouts } = this.parts
    stats.loaderCalls++
    const context = new LazyLoaderContext('', undefined)
    const keys = missing.map((p) => p.key)
    const loading = Promise.resolve().then(() =>
      loader({
        keys,
        get signal() {
          return context.signal
        },
      }),
    )
    const everyFallback = missing.every((p) => p.fallback !== undefined)
    const outcome = await awaitLoader(loading, everyFallback ? timeouts.soft : undefined, timeouts.hard)
    if (outcome.kind === 'value') {
      const values = outcome.value
      await Promise.all(
        missing.map(async (p) => {
          const value = values.get(p.key)
          if (value === undefined) return
          const filled = await stack.fill(p.key, value, {
            options: p.options,
            epoch: p.epoch,
            fence: p.fence,
            background: false,
          })
          for (const at of p.at) answers[at] = filled.value
        }),
      )
      return
    }
    if (outcome.kind === 'error') stats.loaderErrors++
    else {
      if (outcome.kind === 'soft-timeout') stats.softTimeouts++
      else {
        stats.hardTimeouts++
        context.abort()
      }
      // As with getOrSet, a loader that outlives its timeout still fills (fenced) when it finishes.
      loading.then(
        (values) => {
          for (const p of missing) {
            const value = values.get(p.key)
            if (value === undefined) continue
            stack
              .fill(p.key, value, { options: p.options, epoch: p.epoch, fence: p.fence, background: true })
              .catch((error: unknown) => {
                this.parts.absorb('fill', error, p.key)
              })
          }
        },
        () => undefined,
      )
    }
    if (!everyFallback) {
      if (outcome.kind === 'error') throw outcome.error
      throw new CacheError(
        'CS_ERR_LOADER_HARD_TIMEOUT',
        `getMany loader for ${keys.length} key(s) did not finish within the hard timeout of ${timeouts.hard} ms`,
        { details: { keys, timeoutMs: timeouts.hard } },
      )
    }
    stats.failSafeServed += missing.length
    for (const p of missing) {
      events.emit('fail-safe', { key: p.key, reason: outcome.kind })
      for (const at of p.at) answers[at] = p.fallback!.value as T
    }
  }
}

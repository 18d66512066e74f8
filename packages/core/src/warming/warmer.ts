import type { EntryOptions, EntryOptionsResolver } from '../config/entry-options.js'
import { CacheError } from '../errors.js'
import { MIN_CALLS_FOR_HIT_RATE } from '../metrics/health.js'
import type { RefreshAhead } from '../read/refresh-ahead.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import { parseDefinition, type WarmDefinition } from './definition.js'
import { runLimited } from './run-limited.js'

/** Options of `warm` and `warmOnStartup`. */
export interface WarmOptions {
  /** Tenant or user ids: each definition's producer is called once per subject. Default: once, with undefined. */
  subjects?: readonly string[]
  /** Loaders in flight at most, per definition. Default 5. */
  concurrency?: number
}

/** What one definition's warm run did. */
export interface WarmReport {
  name: string
  keys: number
  /** Keys whose loader ran (they were not cached). */
  loaded: number
  /** Keys already cached. */
  cached: number
  failed: number
}

/** Options of the refresh sweep. */
export interface RefreshOptions {
  /** An entry is due once this fraction of its TTL has passed. Default 0.8. */
  fraction?: number
  /** Reloads in flight at most. Default 3. */
  concurrency?: number
}

/** What one refresh sweep did. */
export interface RefreshReport {
  /** Entries matching a definition's `refresh` glob. */
  scanned: number
  /** Reloaded and written. */
  refreshed: number
  /** Reloaded, but an invalidation meanwhile made the fill a no-op (as it must). */
  rejected: number
  /** The loader threw, returned undefined, or Redis failed (see the `error` events). */
  failed: number
}

const DEFAULT_CONCURRENCY = 5
const DEFAULT_REFRESH_CONCURRENCY = 3
const DEFAULT_REFRESH_FRACTION = 0.8

interface Registered {
  name: string
  definition: WarmDefinition
  priority: number
}

/** What the warmer uses: Redis to find entries, the cache's own read and refresh paths, and its hit counts. */
export interface WarmerParts {
  l2: Pick<RedisProtocol, 'sampleEntries' | 'scanEntryTimes'> | undefined
  /** Entries in L1 (the emptiness test of a memory-only cache). */
  l1Size(): number
  /** Calls and hits (L1 or L2) so far. */
  hitCounts(): { calls: number; hits: number }
  entryOptions: EntryOptionsResolver
  /** The cache's own getOrSet, so produced keys are validated like any other. */
  getOrSet(key: string, loader: () => unknown, options?: EntryOptions): Promise<unknown>
  reload: RefreshAhead['reload']
  absorb(operation: string, error: unknown, key?: string): void
}

/**
 * Fills registered keys before traffic needs them, and reloads entries near expiry. Every write
 * goes through the race-proof fill, so warming or refreshing cannot bring back invalidated data.
 * Scheduling is not done here: see `scheduleCacheMaintenance` in @cachesaga/queue.
 */
export class Warmer {
  private readonly definitions = new Map<string, Registered>()

  /** @internal created by the cache */
  constructor(private readonly parts: WarmerParts) {}

  register(name: string, definition: WarmDefinition): this {
    if (typeof name !== 'string' || name.length === 0)
      throw new CacheError('CS_ERR_INVALID_OPTION', 'warmer name: expected a non-empty string')
    const { priority } = parseDefinition(name, definition)
    if (definition.options !== undefined) this.parts.entryOptions.resolve(definition.options)
    this.definitions.set(name, { name, definition, priority })
    return this
  }

  /** Registered names, highest priority first. */
  names(): string[] {
    return this.ordered().map((entry) => entry.name)
  }

  /** Warms the named definitions (all when omitted), highest priority first. */
  async warm(names?: readonly string[], options: WarmOptions = {}): Promise<WarmReport[]> {
    const concurrency = limitOf(options.concurrency, DEFAULT_CONCURRENCY, 'concurrency')
    const selected = this.ordered().filter((entry) => names === undefined || names.includes(entry.name))
    for (const name of names ?? []) {
      if (!this.definitions.has(name))
        throw new CacheError('CS_ERR_INVALID_OPTION', `names: no warmer named ${JSON.stringify(name)}`)
    }
    const reports: WarmReport[] = []
    for (const entry of selected) reports.push(await this.warmOne(entry, options.subjects, concurrency))
    return reports
  }

  /** Every definition, highest priority first: call once at startup, before serving traffic. */
  warmOnStartup(options?: WarmOptions): Promise<WarmReport[]> {
    return this.warm(undefined, options)
  }

  /**
   * True when a SCAN sample finds no entry at all in Redis (L1 when memory-only), or when at least
   * 100 calls were served with a hit rate below `minHitRate` (default 0.5).
   */
  async isWarmupNeeded(options: { minHitRate?: number } = {}): Promise<boolean> {
    const l2 = this.parts.l2
    const empty = l2 === undefined ? this.parts.l1Size() === 0 : (await l2.sampleEntries(1)).length === 0
    if (empty) return true
    const { calls, hits } = this.parts.hitCounts()
    return calls >= MIN_CALLS_FOR_HIT_RATE && hits / calls < (options.minHitRate ?? 0.5)
  }

  /** One sweep: reloads entries matching a definition's `refresh` glob once past `fraction` of their TTL. */
  async refresh(options: RefreshOptions = {}): Promise<RefreshReport> {
    const fraction = options.fraction ?? DEFAULT_REFRESH_FRACTION
    if (!(fraction > 0 && fraction < 1))
      throw new CacheError('CS_ERR_INVALID_OPTION', `fraction: expected a number in (0, 1), got ${fraction}`)
    const concurrency = limitOf(options.concurrency, DEFAULT_REFRESH_CONCURRENCY, 'concurrency')
    const report: RefreshReport = { scanned: 0, refreshed: 0, rejected: 0, failed: 0 }
    const l2 = this.parts.l2
    if (l2 === undefined) return report
    for (const { definition } of this.ordered()) {
      if (definition.refresh === undefined) continue
      const due: string[] = []
      await l2.scanEntryTimes(definition.refresh, async (entries) => {
        const now = Date.now()
        for (const entry of entries) {
          report.scanned++
          if (now >= entry.createdAt + (entry.expiresAt - entry.createdAt) * fraction) due.push(entry.key)
        }
      })
      const resolved = this.parts.entryOptions.resolve(definition.options)
      await runLimited(due, concurrency, async (key) => {
        try {
          const outcome = await this.parts.reload(key, () => definition.loader(key), resolved, undefined)
          if (outcome === 'filled') report.refreshed++
          else if (outcome === 'stale') report.rejected++
          else report.failed++
        } catch (error) {
          report.failed++
          this.parts.absorb('refresh', error, key)
        }
      })
    }
    return report
  }

  private async warmOne(
    entry: Registered,
    subjects: readonly string[] | undefined,
    concurrency: number,
  ): Promise<WarmReport> {
    const { definition } = entry
    const report: WarmReport = { name: entry.name, keys: 0, loaded: 0, cached: 0, failed: 0 }
    const produce = async function* () {
      if (definition.keys !== undefined) {
        yield* definition.keys
        return
      }
      for (const subject of subjects ?? [undefined]) yield* await definition.producer!(subject)
    }
    await runLimited(produce(), concurrency, async (key) => {
      report.keys++
      let loaded = false
      try {
        await this.parts.getOrSet(
          key,
          () => {
            loaded = true
            return definition.loader(key)
          },
          definition.options,
        )
        if (loaded) report.loaded++
        else report.cached++
      } catch (error) {
        report.failed++
        this.parts.absorb('warm', error, key)
      }
    })
    return report
  }

  private ordered(): Registered[] {
    return [...this.definitions.values()].sort((a, b) => b.priority - a.priority)
  }
}

function limitOf(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback
  if (Number.isInteger(value) && value > 0) return value
  throw new CacheError('CS_ERR_INVALID_OPTION', `${field}: expected a positive integer, got ${value}`)
}

import { RedisUnreachableError, waitForRedis } from '@cachesaga/common'
import { type CacheParts, composeCache } from './compose.js'
import { type Duration, toMilliseconds } from './config/duration.js'
import type { EntryOptions } from './config/entry-options.js'
import { type CacheOptions, parseOptions, type ResolvedOptions } from './config/options.js'
import type { ConsistencyChecker } from './consistency/checker.js'
import { CacheError } from './errors.js'
import type { CacheEvents } from './events.js'
import { callKey, checkFunctionName } from './invalidation/cached-functions.js'
import type { InvalidationReport } from './invalidation/report.js'
import type { InvalidateOptions, InvalidationTarget } from './invalidation/target.js'
import { assessHealth, type CacheHealth } from './metrics/health.js'
import { parseRedisInfo, type RedisInfo } from './metrics/redis-info.js'
import { type InstanceSnapshot, readSnapshots } from './metrics/snapshots.js'
import type { CacheStats } from './metrics/stats.js'
import type { ManyEntryOptions, ManyLoader } from './read/get-many.js'
import type { Served } from './read/get-or-set.js'
import type { Loader } from './read/loader-context.js'
import { setInSpan, tracing } from './tracing/cache-tracing.js'
import type { Warmer } from './warming/warmer.js'

const MAX_KEY_LENGTH = 1024
const DEFAULT_READY_TIMEOUT_MS = 5_000

/** Options of `cache.wrap`. */
export interface WrapOptions extends EntryOptions {
  /** The function's name: `invalidate({ queries: [{ name }] })` clears every call of exactly this name. */
  name: string
}

/**
 * A multi-tier cache: L1 memory, L2 Redis, and the loader, with invalidation that a late fill cannot undo.
 * This class only checks arguments and hands each call to the part that does it (see compose.ts).
 */
export class Cache {
  private readonly parts: CacheParts
  private closed = false
  /** Compares sampled cached copies (Redis, and every live instance's L1) with the source of truth. */
  readonly checker: ConsistencyChecker
  /** Warms registered keys and reloads entries near expiry (see `scheduleCacheMaintenance` in @cachesaga/queue). */
  readonly warmer: Warmer

  /** @internal use createCache */
  constructor(options: ResolvedOptions) {
    this.parts = composeCache(options, {
      invalidate: (target) => this.invalidate(target),
      getOrSet: (key, loader, entry) => this.getOrSet(key, loader, entry),
      snapshot: async () => ({ stats: this.stats(), health: await this.health() }),
    })
    this.checker = this.parts.checker
    this.warmer = this.parts.warmer
    const snapshots = this.parts.snapshots
    if (snapshots !== undefined) void this.parts.bus?.subscribed.then(() => snapshots.publish())
  }

  /** This process's id on the bus (its own messages are ignored). */
  get instanceId(): string {
    return this.parts.instanceId
  }

  /**
   * Resolves once Redis answers and the invalidation bus is subscribed (at once in memory-only mode); L1
   * serves only after that. Rejects after `timeout` (default `'5s'`) with CS_ERR_REDIS_UNREACHABLE naming
   * Redis (password redacted) and the cause (ECONNREFUSED, WRONGPASS, NOAUTH, ...). The cache keeps
   * connecting in the background meanwhile and answers from the loader.
   */
  async ready(options: { timeout?: Duration } = {}): Promise<void> {
    const timeoutMs = toMilliseconds(options.timeout ?? DEFAULT_READY_TIMEOUT_MS, 'timeout')
    const { connection, bus } = this.parts
    if (connection === undefined || bus === undefined) return
    const started = Date.now()
    await waitForRedis(connection.client, { timeoutMs, target: connection.target })
    const left = Math.max(0, timeoutMs - (Date.now() - started))
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RedisUnreachableError(
              connection.target,
              timeoutMs,
              bus.lastError ?? 'the bus did not subscribe',
            ),
          ),
        left,
      )
    })
    await Promise.race([bus.subscribed, late]).finally(() => clearTimeout(timer))
  }

  /** The cached value, or the loader's (which then fills L2 and L1 unless an invalidation happened meanwhile). */
  getOrSet<T>(key: string, loader: Loader<T>, options?: EntryOptions): Promise<T> {
    const refused = this.refuse(key)
    if (refused !== undefined) return Promise.reject(refused)
    return this.parts.flow.getOrSet(key, loader, options)
  }

  /**
   * `getOrSet` that also says which tier answered (`'l1'`, `'l2'` or `'loader'`) and the read's
   * generation. Costs no extra Redis command; only this call hashes the entry's stamp.
   */
  getOrSetWithInfo<T>(key: string, loader: Loader<T>, options?: EntryOptions): Promise<Served<T>> {
    const refused = this.refuse(key)
    if (refused !== undefined) return Promise.reject(refused)
    return this.parts.flow.getOrSetWithInfo(key, loader, options)
  }

  /**
   * The fresh cached value, or undefined. `options`, the entry options it was written with, only let L2
   * check the entry's tags and scope in the same round trip; without them an entry that has some costs a
   * second one.
   */
  get<T>(key: string, options?: EntryOptions): Promise<T | undefined> {
    const refused = this.refuse(key)
    if (refused !== undefined) return Promise.reject(refused)
    return this.parts.flow.get<T>(key, options)
  }

  /**
   * Writes a value the caller knows is current. It bumps the key's generation, so a fill of older
   * data that is still in flight cannot overwrite it; other instances drop their L1 copies.
   * A Redis failure is emitted as an `error` event, not thrown.
   */
  async set<T>(key: string, value: T, options?: EntryOptions): Promise<void> {
    await this.setMany([{ key, value, options }])
  }

  /**
   * Many keys in one round trip: L1, then one MGET for the rest, then one `loader` call with the keys neither
   * tier had (it answers a Map; a key it leaves out answers undefined and is not cached). Answers in the
   * order of `keys`. `options` applies to every key, or is a function of the key.
   */
  getMany<T>(
    keys: readonly string[],
    loader: ManyLoader<T>,
    options?: ManyEntryOptions,
  ): Promise<Array<T | undefined>> {
    if (!Array.isArray(keys)) return Promise.reject(invalidKey(keys))
    for (const key of keys) {
      const refused = this.refuse(key)
      if (refused !== undefined) return Promise.reject(refused)
    }
    return this.parts.many.getMany(keys, loader, options)
  }

  /** `set` for many entries: every value is serialized first, then the writes go to Redis together. */
  async setMany(
    entries: ReadonlyArray<{ key: string; value: unknown; options?: EntryOptions }>,
  ): Promise<void> {
    const items = entries.map(({ key, value, options }) => {
      const refused = this.refuse(key)
      if (refused !== undefined) throw refused
      return { key, value, options: this.parts.entryOptions.resolve(options) }
    })
    const tracer = tracing.tracer()
    if (tracer === undefined) return this.parts.stack.set(items)
    const { namespace, tenant } = this.parts.options
    return setInSpan(tracer, { namespace, tenant }, items.length, () => this.parts.stack.set(items))
  }

  /** Removes one key everywhere; same guarantee (and failure report) as `invalidate({ keys: [key] })`. */
  async delete(key: string): Promise<void> {
    await this.invalidate({ keys: [key] })
    this.parts.events.emit('delete', { keys: [key] })
  }

  /**
   * The one invalidation entry point. When it resolves, L2 and this instance's L1 hold nothing
   * written before the call for the targets, and no fill in flight can put such a value back.
   * Rejects with CS_ERR_INVALIDATION_FAILED (carrying the report) if any item failed after retries.
   */
  invalidate(target: InvalidationTarget, options?: InvalidateOptions): Promise<InvalidationReport> {
    if (this.closed) return Promise.reject(closedError())
    return this.parts.invalidator.invalidate(target, options)
  }

  /** Memoizes `fn` by its name and a stable hash of its arguments; see `invalidate({ queries })`. */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => Promise<R> | R,
    options: WrapOptions,
  ): (...args: A) => Promise<R> {
    const name = checkFunctionName(options?.name, 'options.name')
    const { name: _, ...entry } = options
    this.parts.entryOptions.resolve(entry, name) // fail at once on a bad option
    return (...args: A) => {
      if (this.closed) return Promise.reject(closedError())
      return this.parts.flow.getOrSet(callKey(name, args), () => fn(...args), entry, name)
    }
  }

  /**
   * A single-use token, valid for one minute, that `clear` requires. Kept in Redis, so any process
   * of the namespace (or tenant) can use it once.
   */
  requestClearToken(): Promise<string> {
    if (this.closed) return Promise.reject(closedError())
    return this.parts.invalidator.requestClearToken()
  }

  /** Emergency clear of the whole namespace (or tenant). A missing, wrong or used token deletes nothing. */
  clear(options: { token: string }): Promise<InvalidationReport> {
    if (this.closed) return Promise.reject(closedError())
    return this.parts.invalidator.clear(options?.token)
  }

  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.parts.events.on(event, listener)
    return this
  }

  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.parts.events.off(event, listener)
    return this
  }

  stats(): CacheStats {
    const { stats, connection, bus } = this.parts
    return stats.snapshot(connection?.breaker.isOpen ?? false, bus?.queued ?? 0)
  }

  /** Status from the thresholds of the `health` option, with the figures it was judged on and Redis `INFO`. */
  async health(): Promise<CacheHealth> {
    const { stats, protocol, connection, l1, bus, options } = this.parts
    let redis: RedisInfo | null = null
    let redisError: string | undefined
    if (protocol !== undefined) {
      try {
        redis = parseRedisInfo(await protocol.info())
      } catch (error) {
        redisError = error instanceof Error ? error.message : String(error)
      }
    }
    const s = this.stats()
    return assessHealth(
      {
        hits: s.l1.hits + s.l2.hits,
        calls: s.l1.hits + s.l1.misses,
        p95Ms: stats.latency.percentileMs(95),
        circuit: connection === undefined ? 'none' : connection.breaker.isOpen ? 'open' : 'closed',
        bus: {
          state: bus === undefined ? 'none' : Date.now() < l1.servesUntil ? 'connected' : 'suspended',
          queued: s.bus.queued,
          gaps: s.bus.gaps,
        },
        redis,
        redisError,
        lastConsistency: this.checker.lastReport,
      },
      { hitRate: options.health.hitRate, p95Ms: options.health.p95 },
    )
  }

  /** What the other live instances of this namespace last wrote about themselves (see `snapshotEvery`). */
  instances(): Promise<InstanceSnapshot[]> {
    if (this.closed) return Promise.reject(closedError())
    return readSnapshots(this.parts.protocol, this.parts.instanceId)
  }

  /** Leaves the live list (`instances()`, `cachesaga stats`/`health`) at once, then closes the Redis connections. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.parts.snapshots?.withdraw()
    this.parts.serverWatch?.stop()
    await this.parts.bus?.close()
    await this.parts.connection?.close()
    this.parts.l1.clear()
  }

  /** Why a call with `key` cannot run, or undefined when it can. */
  private refuse(key: unknown): CacheError | undefined {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return invalidKey(key)
    if (this.closed) return closedError()
    return undefined
  }
}

/** Creates a cache. Options are validated at once; a bad one throws CS_ERR_INVALID_OPTION naming the field. */
export function createCache(options: CacheOptions): Cache {
  return new Cache(parseOptions(options))
}

function invalidKey(key: unknown): CacheError {
  return new CacheError(
    'CS_ERR_INVALID_KEY',
    `key: expected a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${typeof key === 'string' ? `a string of length ${key.length}` : typeof key}`,
  )
}

function closedError(): CacheError {
  return new CacheError('CS_ERR_CLOSED', 'the cache is closed')
}

import { randomBytes } from 'node:crypto'
import { Bus } from './bus/bus.js'
import { L1Probe } from './bus/l1-probe.js'
import { type EntryOptions, EntryOptionsResolver } from './config/entry-options.js'
import { type CacheOptions, parseOptions, type ResolvedOptions } from './config/options.js'
import { ScopeTree } from './config/scope-tree.js'
import { ConsistencyChecker } from './consistency/checker.js'
import { describeL1 } from './consistency/l1-copies.js'
import { CacheError } from './errors.js'
import { CacheEventEmitter, type CacheEvents } from './events.js'
import { faultSwitches } from './faults.js'
import { callKey, checkFunctionName } from './invalidation/cached-functions.js'
import { Invalidator } from './invalidation/invalidator.js'
import type { InvalidationReport } from './invalidation/report.js'
import type { InvalidateOptions, InvalidationTarget } from './invalidation/target.js'
import { assessHealth, type CacheHealth } from './metrics/health.js'
import { parseRedisInfo, type RedisInfo } from './metrics/redis-info.js'
import { type InstanceSnapshot, readSnapshots, SnapshotPublisher } from './metrics/snapshots.js'
import { type CacheStats, StatsCollector } from './metrics/stats.js'
import type { CacheParts } from './parts.js'
import { type Loader, ReadPath, type Served } from './read/read-path.js'
import { encodeStamp } from './tiers/entry-format.js'
import { KeyLayout } from './tiers/key-layout.js'
import { L1Memory } from './tiers/l1-memory.js'
import { L2Redis } from './tiers/l2-redis.js'
import { LocalEpochs } from './tiers/local-epochs.js'
import { Warmer } from './warming/warmer.js'

const MAX_KEY_LENGTH = 1024

/** Options of `cache.wrap`. */
export interface WrapOptions extends EntryOptions {
  /** The function's name: `invalidate({ queries: [{ name }] })` clears every call of exactly this name. */
  name: string
}

/** A multi-tier cache: L1 memory, L2 Redis, and the loader, with invalidation that a late fill cannot undo. */
export class Cache {
  private readonly parts: CacheParts
  private readonly readPath: ReadPath
  private readonly invalidator: Invalidator
  private readonly entryOptions: EntryOptionsResolver
  private readonly bus: Bus | undefined
  private readonly events = new CacheEventEmitter()
  private closed = false
  private readonly snapshots: SnapshotPublisher | undefined
  /** Compares sampled cached copies (Redis, and every live instance's L1) with the source of truth. */
  readonly checker: ConsistencyChecker
  /** Warms registered keys and reloads entries near expiry (see `scheduleCacheMaintenance` in @cachesaga/queue). */
  readonly warmer: Warmer

  /** @internal use createCache */
  constructor(options: ResolvedOptions) {
    const instanceId = randomBytes(8).toString('hex')
    const layout = new KeyLayout(options.namespace, options.tenant)
    const stats = new StatsCollector()
    const events = this.events
    const l1 = new L1Memory(options.l1.maxEntries, options.l1.maxAge)
    const absorb = (operation: string, error: unknown, key?: string) => {
      if (operation.startsWith('l2') || operation.startsWith('bus')) stats.l2Errors++
      events.emit('error', key === undefined ? { operation, error } : { operation, key, error })
    }
    const l2 =
      options.redis === undefined
        ? undefined
        : new L2Redis(options.redis, layout, options.l2.timeout, options.l2.breaker, {
            onCircuitChange: (open, failures) =>
              open ? events.emit('circuit:open', { failures }) : events.emit('circuit:close', {}),
            onClientError: (error) => events.emit('error', { operation: 'l2.connection', error }),
          })
    const faults = faultSwitches(this)
    this.parts = {
      options,
      layout,
      l1,
      l2,
      epochs: new LocalEpochs(),
      stats,
      events,
      instanceId,
      faults,
      absorb,
    }
    const probe =
      l2 === undefined
        ? undefined
        : new L1Probe(
            instanceId,
            (payload) => l2.publish(layout.probeChannel, payload),
            (keys, sample) => describeL1(l1, keys, sample),
            absorb,
          )
    const scopes = new ScopeTree(options.scopeLevels)
    this.entryOptions = new EntryOptionsResolver(options.ttl, options.grace, scopes)
    this.readPath = new ReadPath(this.parts, this.entryOptions)
    this.bus =
      l2 === undefined
        ? undefined
        : new Bus(
            l2.duplicate(),
            async (channel, payload) => {
              await l2.publish(channel, payload)
            },
            {
              channel: layout.channel,
              probeChannel: layout.probeChannel,
              instanceId,
              outageBoundMs: options.bus.outageBound,
              queueLimit: options.bus.retryQueue,
            },
            {
              apply: (invalidation, from, seq, lagMs) => {
                if (faults.dropBusMessages) return
                stats.busReceived++
                this.invalidator.applyLocally(invalidation, undefined)
                events.emit('bus:message', lagMs === undefined ? { from, seq } : { from, seq, lagMs })
              },
              dropL1: (reason) => {
                if (reason === 'gap') stats.busGaps++
                stats.l1Drops++
                this.parts.epochs.bumpAll()
                l1.clear()
                events.emit('l1:dropped', { reason })
              },
              suspendL1: (suspended) => {
                l1.enabled = !suspended
              },
              published: () => {
                stats.busPublished++
              },
              failed: absorb,
              probed: (raw) => probe?.receive(raw),
            },
          )
    this.invalidator = new Invalidator(this.parts, this.bus, scopes)
    if (l2 !== undefined && options.snapshotEvery !== false) {
      const publisher = new SnapshotPublisher(this.parts, options.snapshotEvery, async () => ({
        stats: this.stats(),
        health: await this.health(),
      }))
      this.snapshots = publisher
      void this.ready().then(() => publisher.publish())
    }
    this.warmer = new Warmer(this.parts, this.readPath, this.entryOptions, (key, loader, entry) =>
      this.getOrSet(key, loader, entry),
    )
    this.checker = new ConsistencyChecker(
      this.parts,
      probe === undefined ? undefined : (keys, sample, timeoutMs) => probe.ask(keys, sample, timeoutMs),
      (keys) => this.invalidate({ keys }),
    )
  }

  /** This process's id on the bus (its own messages are ignored). */
  get instanceId(): string {
    return this.parts.instanceId
  }

  /** Resolves once the bus subscription is confirmed (immediately in memory-only mode); L1 serves only after that. */
  ready(): Promise<void> {
    return this.bus?.subscribed ?? Promise.resolve()
  }

  /** The cached value, or the loader's (which then fills L2 and L1 unless an invalidation happened meanwhile). */
  getOrSet<T>(key: string, loader: Loader<T>, options?: EntryOptions): Promise<T> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
      return Promise.reject(invalidKey(key))
    if (this.closed) return Promise.reject(closedError())
    return this.readPath.getOrSet(key, loader, options)
  }

  /**
   * `getOrSet` that also says which tier answered (`'l1'`, `'l2'` or `'loader'`) and the read's
   * generation. Costs no extra Redis command; only this call hashes the entry's stamp.
   */
  getOrSetWithInfo<T>(key: string, loader: Loader<T>, options?: EntryOptions): Promise<Served<T>> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
      return Promise.reject(invalidKey(key))
    if (this.closed) return Promise.reject(closedError())
    return this.readPath.getOrSetWithInfo(key, loader, options)
  }

  /** The fresh cached value, or undefined. */
  get<T>(key: string): Promise<T | undefined> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
      return Promise.reject(invalidKey(key))
    if (this.closed) return Promise.reject(closedError())
    return this.readPath.get<T>(key)
  }

  /**
   * Writes a value the caller knows is current. It bumps the key's generation, so a fill of older
   * data that is still in flight cannot overwrite it; other instances drop their L1 copies.
   * A Redis failure is emitted as an `error` event, not thrown.
   */
  async set<T>(key: string, value: T, options?: EntryOptions): Promise<void> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) throw invalidKey(key)
    if (this.closed) throw closedError()
    const resolved = this.entryOptions.resolve(options)
    const { l2, epochs, l1, layout } = this.parts
    const now = Date.now()
    const expiresAt = now + resolved.ttlMs
    const graceEnd = expiresAt + resolved.graceMs
    epochs.bumpKey(key)
    if (l2 !== undefined) {
      const counters = [layout.keyGeneration(key), layout.patternEpoch, layout.namespaceGeneration]
      for (const dep of resolved.deps) counters.push(layout.counter(dep))
      try {
        await l2.set({
          key,
          counters,
          data: JSON.stringify(value),
          expiresAt,
          graceEnd,
          createdAt: now,
          px: graceEnd - now,
        })
      } catch (error) {
        this.parts.absorb('l2.set', error, key)
      }
      await this.bus?.publish({ keys: [key] })
    }
    // A read that fetched the old value while we wrote must not put it into L1 after us.
    epochs.bumpKey(key)
    l1.set(key, {
      value,
      expiresAt,
      refreshAt: Number.POSITIVE_INFINITY,
      graceEnd,
      deadline: Math.min(graceEnd, now + l1.maxAgeMs),
      deps: resolved.deps,
      // set.lua records versions this process never sees, so this copy's generation is its own.
      stamp: encodeStamp(['n', ...resolved.deps], [], expiresAt, graceEnd, now),
    })
  }

  /** Removes one key everywhere; same guarantee (and failure report) as `invalidate({ keys: [key] })`. */
  async delete(key: string): Promise<void> {
    await this.invalidate({ keys: [key] })
    this.events.emit('delete', { keys: [key] })
  }

  /**
   * The one invalidation entry point. When it resolves, L2 and this instance's L1 hold nothing
   * written before the call for the targets, and no fill in flight can put such a value back.
   * Rejects with CS_ERR_INVALIDATION_FAILED (carrying the report) if any item failed after retries.
   */
  invalidate(target: InvalidationTarget, options?: InvalidateOptions): Promise<InvalidationReport> {
    if (this.closed) return Promise.reject(closedError())
    return this.invalidator.invalidate(target, options)
  }

  /** Memoizes `fn` by its name and a stable hash of its arguments; see `invalidate({ queries })`. */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => Promise<R> | R,
    options: WrapOptions,
  ): (...args: A) => Promise<R> {
    const name = checkFunctionName(options?.name, 'options.name')
    const { name: _, ...entry } = options
    this.entryOptions.resolve(entry, name) // fail at once on a bad option
    return (...args: A) => {
      if (this.closed) return Promise.reject(closedError())
      return this.readPath.getOrSet(callKey(name, args), () => fn(...args), entry, name)
    }
  }

  /**
   * A single-use token, valid for one minute, that `clear` requires. Kept in Redis, so any process
   * of the namespace (or tenant) can use it once.
   */
  requestClearToken(): Promise<string> {
    if (this.closed) return Promise.reject(closedError())
    return this.invalidator.requestClearToken()
  }

  /** Emergency clear of the whole namespace (or tenant). A missing, wrong or used token deletes nothing. */
  clear(options: { token: string }): Promise<InvalidationReport> {
    if (this.closed) return Promise.reject(closedError())
    return this.invalidator.clear(options?.token)
  }

  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.events.on(event, listener)
    return this
  }

  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.events.off(event, listener)
    return this
  }

  stats(): CacheStats {
    return this.parts.stats.snapshot(this.parts.l2?.breaker.isOpen ?? false, this.bus?.queued ?? 0)
  }

  /** Status from the thresholds of the `health` option, with the figures it was judged on and Redis `INFO`. */
  async health(): Promise<CacheHealth> {
    const { stats, l2, l1, options } = this.parts
    let redis: RedisInfo | null = null
    let redisError: string | undefined
    if (l2 !== undefined) {
      try {
        redis = parseRedisInfo(await l2.info())
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
        circuit: l2 === undefined ? 'none' : l2.breaker.isOpen ? 'open' : 'closed',
        bus: {
          state: this.bus === undefined ? 'none' : l1.enabled ? 'connected' : 'suspended',
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
    return readSnapshots(this.parts, this.parts.instanceId)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.snapshots?.stop()
    await this.bus?.close()
    await this.parts.l2?.close()
    this.parts.l1.clear()
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

import { EventEmitter } from 'node:events'
import type { InvalidationTarget } from './invalidation/target.js'

/** Why a whole L1 was dropped. */
export type L1DropReason = 'gap' | 'reconnect' | 'outage' | 'unreadable-message' | 'redis-restart'

/** Payload of `'redis:restart'`. */
export interface RedisRestart {
  /** `run-id`: the server restarted (or another took its place); `role`: it is no longer a primary, or became one. */
  reason: 'run-id' | 'role' | 'replication-offset'
  /** When this instance noticed, ms since the epoch. */
  detectedAt: number
  previousRunId?: string
  runId?: string
}

/** Every event of a cache and its payload. */
export interface CacheEvents {
  hit: { key: string; tier: 'l1' | 'l2' }
  miss: { key: string }
  fill: { key: string; background: boolean }
  /** A fill was a no-op: the key, a tag, scope, pattern or namespace was invalidated while its loader ran. */
  'fill-rejected-stale': { key: string; background: boolean }
  delete: { keys: string[] }
  invalidate: { target: InvalidationTarget; ok: boolean }
  /** A grace value was served: `reason` says why the loader's answer was not used. */
  'fail-safe': { key: string; reason: 'error' | 'soft-timeout' | 'hard-timeout' }
  /** An invalidation from another instance; `lagMs` from its publish to here (clocks permitting). */
  'bus:message': { from: string; seq: number; lagMs?: number }
  /** A getOrSet/get that went past L1, with how long it took. */
  latency: { key: string; ms: number }
  /** This instance's whole L1 was dropped because it may have missed invalidations. */
  'l1:dropped': { reason: L1DropReason }
  /**
   * Redis restarted or failed over (its `run_id` or role changed, or its replication offset went backwards):
   * what it holds may predate invalidations, so the namespace was fenced (every entry written before reads as
   * invalidated) and L1 dropped. A listener can replay recent invalidations too (`cache.invalidate`).
   */
  'redis:restart': RedisRestart
  'circuit:open': { failures: number }
  'circuit:close': Record<string, never>
  /** A failure the cache absorbed (it did not reach the caller's main operation). */
  error: { operation: string; key?: string; error: unknown }
}

/**
 * The one typed emitter of a cache. `emit` is skipped cheaply when nobody listens, and an
 * `error` event without listeners is dropped instead of throwing (errors are also counted).
 */
export class CacheEventEmitter {
  private readonly emitter = new EventEmitter()
  /** Events with at least one listener, kept current so `listens` is a property read on hot paths. */
  private readonly active = new Set<string | symbol>()
  /** True while someone listens to `hit`: read on every L1 hit, where even a Set lookup shows. */
  hitListened = false

  constructor() {
    this.emitter.on('newListener', (event: string | symbol) => {
      this.active.add(event)
      if (event === 'hit') this.hitListened = true
    })
    this.emitter.on('removeListener', (event: string | symbol) => {
      // Called after removal: the count is already current.
      if (this.emitter.listenerCount(event) > 0) return
      this.active.delete(event)
      if (event === 'hit') this.hitListened = false
    })
  }

  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.emitter.on(event, listener)
    return this
  }

  once<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.emitter.once(event, listener)
    return this
  }

  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.emitter.off(event, listener)
    return this
  }

  /** True when someone listens; callers check it before building a payload on a hot path. */
  listens(event: keyof CacheEvents): boolean {
    return this.active.has(event)
  }

  emit<E extends keyof CacheEvents>(event: E, payload: CacheEvents[E]): void {
    if (this.active.has(event)) this.emitter.emit(event, payload)
  }
}

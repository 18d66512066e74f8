import type { InvalidatingCache } from '../invalidation/invalidating-cache.js'

/**
 * What @cachesaga/core reports when Redis may have lost acknowledged writes: it restarted (a new run id),
 * a replica was promoted (role), or the replication offset went backwards.
 */
export interface RedisRestartEvent {
  reason: 'run-id' | 'role' | 'replication-offset'
  /** When the cache noticed, in ms since the epoch (its own clock). */
  detectedAt: number
  previousRunId?: string
  runId?: string
}

/** The part of a @cachesaga/core cache the replay uses: its restart signal and `invalidate`. */
export interface RestartSignallingCache extends InvalidatingCache {
  on(event: 'redis:restart', listener: (event: RedisRestartEvent) => void): unknown
  off?(event: 'redis:restart', listener: (event: RedisRestartEvent) => void): unknown
}

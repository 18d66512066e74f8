import type { ConsistencyReport } from '../consistency/report.js'
import type { RedisInfo } from './redis-info.js'

export type HealthStatus = 'healthy' | 'degraded' | 'critical'

/** Thresholds of `health()`, resolved from the `health` option. */
export interface HealthThresholds {
  hitRate: { degraded: number; critical: number }
  p95Ms: { degraded: number; critical: number }
}

/** Below this many calls the hit rate says nothing yet (a cache just started is not unhealthy). */
export const MIN_CALLS_FOR_HIT_RATE = 100

/** What `cache.health()` returns. */
export interface CacheHealth {
  status: HealthStatus
  /** Why the status is not `healthy` (empty when it is). */
  reasons: string[]
  /** Hits (L1 or L2) / calls, 0..1; null below 100 calls. */
  hitRate: number | null
  calls: number
  /** 95th percentile latency of calls that went past L1, in ms. */
  p95Ms: number
  /** `closed` normal, `open` Redis is skipped; `none` in memory-only mode. */
  circuit: 'closed' | 'open' | 'none'
  /** `connected`; `suspended` (L1 off: the bus may be missing invalidations); `none` in memory-only mode. */
  bus: { state: 'connected' | 'suspended' | 'none'; queued: number; gaps: number }
  /** `INFO` figures; null in memory-only mode or when Redis did not answer. */
  redis: RedisInfo | null
  lastConsistency: ConsistencyReport | null
}

export interface HealthInputs {
  hits: number
  calls: number
  p95Ms: number
  circuit: CacheHealth['circuit']
  bus: CacheHealth['bus']
  redis: RedisInfo | null
  redisError: string | undefined
  lastConsistency: ConsistencyReport | undefined
}

/**
 * Healthy when the hit rate is at or above `hitRate.degraded` and p95 below `p95Ms.degraded`;
 * critical when the hit rate is below `hitRate.critical`, p95 at or above `p95Ms.critical`, the
 * circuit is open or Redis did not answer; degraded otherwise (including a suspended bus or
 * inconsistencies found by the latest consistency check).
 */
export function assessHealth(inputs: HealthInputs, thresholds: HealthThresholds): CacheHealth {
  const critical: string[] = []
  const degraded: string[] = []
  const hitRate = inputs.calls >= MIN_CALLS_FOR_HIT_RATE ? inputs.hits / inputs.calls : null
  if (hitRate !== null) {
    const percent = `${(hitRate * 100).toFixed(1)}%`
    if (hitRate < thresholds.hitRate.critical)
      critical.push(`hit rate ${percent} is below ${thresholds.hitRate.critical * 100}%`)
    else if (hitRate < thresholds.hitRate.degraded)
      degraded.push(`hit rate ${percent} is below ${thresholds.hitRate.degraded * 100}%`)
  }
  if (inputs.p95Ms >= thresholds.p95Ms.critical)
    critical.push(`p95 latency ${inputs.p95Ms.toFixed(1)} ms is at or above ${thresholds.p95Ms.critical} ms`)
  else if (inputs.p95Ms >= thresholds.p95Ms.degraded)
    degraded.push(`p95 latency ${inputs.p95Ms.toFixed(1)} ms is at or above ${thresholds.p95Ms.degraded} ms`)
  if (inputs.circuit === 'open') critical.push('the Redis circuit breaker is open')
  if (inputs.redisError !== undefined) critical.push(`Redis INFO failed: ${inputs.redisError}`)
  if (inputs.bus.state === 'suspended') degraded.push('the invalidation bus is disconnected (L1 suspended)')
  const found = inputs.lastConsistency?.inconsistencies.length ?? 0
  if (found > 0) degraded.push(`the last consistency check found ${found} inconsistent copies`)
  const status: HealthStatus = critical.length > 0 ? 'critical' : degraded.length > 0 ? 'degraded' : 'healthy'
  return {
    status,
    reasons: [...critical, ...degraded],
    hitRate,
    calls: inputs.calls,
    p95Ms: inputs.p95Ms,
    circuit: inputs.circuit,
    bus: inputs.bus,
    redis: inputs.redis,
    lastConsistency: inputs.lastConsistency ?? null,
  }
}

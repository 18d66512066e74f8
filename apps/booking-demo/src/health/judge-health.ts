/** What the health status is judged on. */
export interface HealthSignals {
  /** Reads answered by L1 or L2, out of all reads; null before any read. */
  hitRate: number | null
  reads: number
  /** p95 of availability reads over recent traffic, in ms; null before any read. */
  p95Ms: number | null
  redisReachable: boolean
  postgresReachable: boolean
  /** Invalidations that failed in this process (the outbox event's worker is the backstop). */
  failedInvalidations: number
  /** Invalidation messages waiting to be re-sent to other instances. */
  unsentBusMessages: number
}

type HealthStatus = 'healthy' | 'degraded' | 'critical'

/** The thresholds of the booking system this demo comes from. */
export const HEALTH_THRESHOLDS = {
  /** Healthy above this hit rate... */
  healthyHitRate: 0.9,
  /** ...critical below this one. */
  criticalHitRate: 0.5,
  healthyP95Ms: 50,
  criticalP95Ms: 250,
  /** Fewer reads than this say nothing about the hit rate (a cold cache misses first). */
  minReadsForHitRate: 20,
} as const

/** The status and the reasons it is not healthy, one line each. */
export function judgeHealth(signals: HealthSignals): { status: HealthStatus; reasons: string[] } {
  const critical: string[] = []
  const degraded: string[] = []
  const t = HEALTH_THRESHOLDS
  if (!signals.redisReachable) critical.push('Redis is unreachable')
  if (!signals.postgresReachable) critical.push('PostgreSQL is unreachable')
  if (signals.hitRate !== null && signals.reads >= t.minReadsForHitRate) {
    const percent = `${(signals.hitRate * 100).toFixed(1)}%`
    if (signals.hitRate < t.criticalHitRate)
      critical.push(`hit rate ${percent} is below ${t.criticalHitRate * 100}%`)
    else if (signals.hitRate <= t.healthyHitRate)
      degraded.push(`hit rate ${percent} is not above ${t.healthyHitRate * 100}%`)
  }
  if (signals.p95Ms !== null) {
    const p95 = `p95 ${signals.p95Ms.toFixed(1)} ms`
    if (signals.p95Ms >= t.criticalP95Ms) critical.push(`${p95} is over ${t.criticalP95Ms} ms`)
    else if (signals.p95Ms >= t.healthyP95Ms) degraded.push(`${p95} is not under ${t.healthyP95Ms} ms`)
  }
  if (signals.failedInvalidations > 0)
    degraded.push(`${signals.failedInvalidations} invalidation(s) failed here`)
  if (signals.unsentBusMessages > 0) degraded.push(`${signals.unsentBusMessages} bus message(s) not yet sent`)
  if (critical.length > 0) return { status: 'critical', reasons: [...critical, ...degraded] }
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded }
  return { status: 'healthy', reasons: [] }
}

import { describe, expect, it } from 'vitest'
import { type HealthSignals, judgeHealth } from './judge-health.js'

const healthy: HealthSignals = {
  hitRate: 0.95,
  reads: 1_000,
  p95Ms: 12,
  redisReachable: true,
  postgresReachable: true,
  failedInvalidations: 0,
  unsentBusMessages: 0,
}

describe('the cache health status', () => {
  it('is healthy above 90% hits and under 50 ms p95 with both stores reachable', () => {
    expect(judgeHealth(healthy)).toEqual({ status: 'healthy', reasons: [] })
  })

  it('is degraded at 90% hits or less, or at 50 ms p95 or more', () => {
    expect(judgeHealth({ ...healthy, hitRate: 0.9 })).toEqual({
      status: 'degraded',
      reasons: ['hit rate 90.0% is not above 90%'],
    })
    expect(judgeHealth({ ...healthy, p95Ms: 50 }).status).toBe('degraded')
    expect(judgeHealth({ ...healthy, failedInvalidations: 1 }).status).toBe('degraded')
  })

  it('is critical when a store is unreachable, hits fall under 50% or p95 reaches 250 ms', () => {
    expect(judgeHealth({ ...healthy, redisReachable: false })).toEqual({
      status: 'critical',
      reasons: ['Redis is unreachable'],
    })
    expect(judgeHealth({ ...healthy, postgresReachable: false }).status).toBe('critical')
    expect(judgeHealth({ ...healthy, hitRate: 0.4 }).status).toBe('critical')
    expect(judgeHealth({ ...healthy, p95Ms: 300, hitRate: 0.8 })).toEqual({
      status: 'critical',
      reasons: ['p95 300.0 ms is over 250 ms', 'hit rate 80.0% is not above 90%'],
    })
  })

  it('does not judge the hit rate of a cold cache on its first few reads', () => {
    expect(judgeHealth({ ...healthy, hitRate: 0.5, reads: 2 }).status).toBe('healthy')
  })
})

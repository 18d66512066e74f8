import { errorCode } from '@cachesaga/common'
import { bookingCatalog, type QueueStats } from '@cachesaga/queue'
import { SAGA_STATES } from '@cachesaga/saga'
import type { FastifyInstance } from 'fastify'

/** A probe that does not answer within this is counted as unreachable. */
const PROBE_TIMEOUT_MS = 1_000

/**
 * Everything `GET /admin/cache/health` and the dashboard show. `status`, `hit_rate`, `latency_p95_ms`,
 * `consistency_score` and `recommendations` are the cache's own judgement (core's `health()` with the demo's
 * thresholds, and its consistency checker's latest run); PostgreSQL's reachability is added to it, and the
 * rest is detail: this instance's availability reads, the cache's counters, queues, sagas, recent activity.
 */
export async function collectHealth(app: FastifyInstance) {
  const [health, postgresReachable, queues, sagas] = await Promise.all([
    app.cache.health(),
    probe(() => app.pool.query('SELECT 1')),
    settle(readQueueDepths(app)),
    settle(countSagas(app)),
  ])
  const reasons = postgresReachable ? health.reasons : ['PostgreSQL is unreachable', ...health.reasons]
  const consistency = health.lastConsistency
  return {
    status: postgresReachable ? health.status : 'critical',
    reasons,
    hit_rate: health.hitRate,
    latency_p95_ms: health.p95Ms,
    consistency_score: consistency?.consistencyPercent ?? null,
    recommendations: consistency?.recommendations ?? [],
    instance: app.config.INSTANCE_NAME,
    consistency:
      consistency === null
        ? null
        : {
            at: new Date(consistency.window.to).toISOString(),
            level: consistency.level,
            checked: consistency.checked,
            inconsistencies: consistency.inconsistencies.length,
            stalenessScore: consistency.stalenessScore,
          },
    /** This instance's availability reads (answered by any tier), over the last 1,000. */
    latencyMs: {
      count: app.latency.count,
      p50: app.latency.percentileMs(50),
      p95: app.latency.percentileMs(95),
      p99: app.latency.percentileMs(99),
    },
    /**
     * Invalidations from other instances: publish there to receipt here (same machine's clocks), over the last
     * 10,000. Once one is received, this instance no longer serves what it invalidated.
     */
    bus_lag_ms: {
      count: app.history.busLag.count,
      p50: app.history.busLag.percentileMs(50),
      p99: app.history.busLag.percentileMs(99),
      max: app.history.busLag.percentileMs(100),
    },
    cache: app.cache.stats(),
    redis: health.redis === null ? 'unreachable' : 'reachable',
    postgres: postgresReachable ? 'reachable' : 'unreachable',
    queues,
    sagas,
    recentActivity: app.activity.list(),
  }
}

async function readQueueDepths(app: FastifyInstance) {
  const names = bookingCatalog.queues
  const stats = await Promise.all(names.map((name) => app.queueAdmin.stats(name, 1)))
  return Object.fromEntries(names.map((name, index) => [name, summarize(stats[index]!)]))
}

function summarize(stats: QueueStats) {
  return { ...stats.counts, lagP50Ms: stats.lag.p50Ms, lagP99Ms: stats.lag.p99Ms }
}

async function countSagas(app: FastifyInstance) {
  const ids = await Promise.all(SAGA_STATES.map((state) => app.flows.runner.operator.list(state)))
  return Object.fromEntries(SAGA_STATES.map((state, index) => [state, ids[index]!.length]))
}

async function probe(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS)
  })
  try {
    return await Promise.race([check().then(() => true), timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** Queue and saga figures live in Redis: when it is down the health answer still comes, with the error's code. */
async function settle<T>(work: Promise<T>): Promise<T | { error: { code: string; message: string } }> {
  try {
    return await work
  } catch (error) {
    return { error: { code: errorCode(error) ?? 'INTERNAL', message: (error as Error).message } }
  }
}

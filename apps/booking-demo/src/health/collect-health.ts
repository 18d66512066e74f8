import { bookingCatalog, type QueueStats } from '@cachesaga/queue'
import { SAGA_STATES } from '@cachesaga/saga'
import type { ApiContext } from '../api/api-context.js'
import { HEALTH_THRESHOLDS, judgeHealth } from './judge-health.js'

/** A probe that does not answer within this is counted as unreachable. */
const PROBE_TIMEOUT_MS = 1_000

/** Everything `GET /admin/cache/health` and the dashboard show, gathered from this process and its stores. */
export async function collectHealth(context: ApiContext) {
  const stats = context.cache.stats()
  const reads = stats.l1.hits + stats.l1.misses
  const hitRate = reads === 0 ? null : (stats.l1.hits + stats.l2.hits) / reads
  const [redisReachable, postgresReachable, queues, sagas] = await Promise.all([
    probe(() => context.redis.ping()),
    probe(() => context.pool.query('SELECT 1')),
    settle(readQueueDepths(context)),
    settle(countSagas(context)),
  ])
  const latency = {
    count: context.latency.count,
    p50: context.latency.percentileMs(50),
    p95: context.latency.percentileMs(95),
    p99: context.latency.percentileMs(99),
  }
  const { status, reasons } = judgeHealth({
    hitRate,
    reads,
    p95Ms: latency.p95,
    redisReachable,
    postgresReachable,
    failedInvalidations: context.failedInvalidations(),
    unsentBusMessages: stats.bus.queued,
  })
  return {
    status,
    reasons,
    thresholds: HEALTH_THRESHOLDS,
    instance: context.config.INSTANCE_NAME,
    hitRate,
    reads,
    latencyMs: latency,
    cache: stats,
    failedInvalidations: context.failedInvalidations(),
    redis: redisReachable ? 'reachable' : 'unreachable',
    postgres: postgresReachable ? 'reachable' : 'unreachable',
    queues,
    sagas,
    recentActivity: context.activity.list(),
  }
}

async function readQueueDepths(context: ApiContext) {
  const names = bookingCatalog.queues
  const stats = await Promise.all(names.map((name) => context.queueAdmin.stats(name, 1)))
  return Object.fromEntries(names.map((name, index) => [name, summarize(stats[index]!)]))
}

function summarize(stats: QueueStats) {
  return { ...stats.counts, lagP50Ms: stats.lag.p50Ms, lagP99Ms: stats.lag.p99Ms }
}

async function countSagas(context: ApiContext) {
  const ids = await Promise.all(SAGA_STATES.map((state) => context.runner.operator.list(state)))
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

/** Queue and saga figures live in Redis: when it is down the health answer still comes, with the error. */
async function settle<T>(work: Promise<T>): Promise<T | { error: string }> {
  try {
    return await work
  } catch (error) {
    return { error: (error as Error).message }
  }
}

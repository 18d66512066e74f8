import { type WorkerOptions as BullWorkerOptions, MetricsTime } from 'bullmq'
import type { Redis } from 'ioredis'
import { connectRedis } from '../queues/connection.js'
import type { WorkerLog } from './worker-log.js'

/** The parsed options every worker of this package shares (see `workerOptionsSchema`). */
interface WorkerSettings {
  prefix: string
  concurrency: number
  lockDurationMs: number
  stalledIntervalMs: number
  maxStalledCount: number
}

/** The worker-role connection (see `connectRedis`), its connection errors sent to the worker's log. */
export function connectWorkerRedis(url: string, log: WorkerLog): Redis {
  const redis = connectRedis(url, 'worker')
  // Without a listener ioredis prints reconnect errors to the console, outside the worker's JSON log.
  redis.on('error', (error: Error) => log('error', 'redis connection error', { error: error.message }))
  return redis
}

/** BullMQ worker options: the stalled-job tuning and a week of per-minute metrics for `QueueAdmin.stats`. */
export function bullWorkerOptions(settings: WorkerSettings, connection: Redis): BullWorkerOptions {
  return {
    connection,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  }
}

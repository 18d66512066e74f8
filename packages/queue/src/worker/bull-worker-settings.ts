import { type WorkerOptions as BullWorkerOptions, MetricsTime } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'
import type { WorkerSettings } from '../config.js'

/** BullMQ worker options: the stalled-job tuning and a week of per-minute metrics for `QueueAdmin.stats`. */
export function bullWorkerOptions(
  settings: WorkerSettings,
  connection: Redis | Cluster,
  concurrency: number,
): BullWorkerOptions {
  return {
    connection,
    prefix: settings.prefix,
    concurrency,
    lockDuration: settings.lockDuration,
    stalledInterval: settings.stalledInterval,
    maxStalledCount: settings.maxStalledCount,
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  }
}

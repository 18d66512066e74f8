import type { Queue } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'
import { type LagHistogram, lagHistogramKey, readLagHistogram } from '../metrics/lag-histogram.js'

export interface QueueStats {
  counts: { waiting: number; active: number; delayed: number; failed: number; completed: number }
  /** Jobs finished since metrics began, and per minute (latest minute first, from BullMQ's metrics). */
  processed: { total: number; perMinute: number[] }
  failed: { total: number; perMinute: number[] }
  /** Time from the event's `occurredAt` to the end of its processing. */
  lag: LagHistogram
}

export async function readQueueStats(
  queue: Queue,
  redis: Redis | Cluster,
  minutes: number,
): Promise<QueueStats> {
  const [counts, completedMetrics, failedMetrics, lag] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
    queue.getMetrics('completed', 0, minutes - 1),
    queue.getMetrics('failed', 0, minutes - 1),
    readLagHistogram(redis, lagHistogramKey(queue.opts.prefix ?? 'bull', queue.name)),
  ])
  return {
    counts: {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
    },
    processed: { total: completedMetrics.meta.count, perMinute: completedMetrics.data },
    failed: { total: failedMetrics.meta.count, perMinute: failedMetrics.data },
    lag,
  }
}

import { type Processor, Worker } from 'bullmq'
import { bullWorkerOptions, connectWorkerRedis } from './bull-worker-settings.js'
import { closeWithDeadline } from './close-with-deadline.js'
import type { WorkerGroup } from './worker-group.js'
import type { WorkerLog } from './worker-log.js'

type Settings = Parameters<typeof bullWorkerOptions>[0] & { redisUrl: string }

/**
 * One BullMQ worker on its own worker-role connection, its errors logged, and a `WorkerGroup` that
 * closes both: what the invalidation and the maintenance workers share. Callers add their own
 * `failed` handling, then await `worker.waitUntilReady()`.
 */
export function singleQueueWorker(
  queue: string,
  processor: Processor,
  settings: Settings,
  log: WorkerLog,
): { worker: Worker; redis: ReturnType<typeof connectWorkerRedis>; group: WorkerGroup } {
  const redis = connectWorkerRedis(settings.redisUrl, log)
  const worker = new Worker(queue, processor, bullWorkerOptions(settings, redis))
  worker.on('error', (error) => log('error', 'worker error', { queue, error: error.message }))
  return {
    worker,
    redis,
    group: {
      close: ({ deadlineMs }) =>
        closeWithDeadline(
          [worker],
          async () => {
            redis.disconnect()
          },
          deadlineMs,
        ),
    },
  }
}

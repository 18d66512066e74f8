import { Worker } from 'bullmq'
import { parseOptions, type WorkerOptions, workerOptionsSchema } from '../config.js'
import { QueueError } from '../errors.js'
import type { DomainEvent } from '../events/schemas.js'
import { LagRecorder, lagHistogramKey } from '../metrics/lag-histogram.js'
import { EVENT_FOR_QUEUE } from '../queues/routing.js'
import { bullWorkerOptions, connectWorkerRedis } from './bull-worker-settings.js'
import { closeWithDeadline } from './close-with-deadline.js'
import { warnUnlessNoeviction } from './eviction-policy.js'
import type { DomainEventHandlers, EventHandler } from './handlers.js'
import { createProcessor } from './processor.js'
import { jsonLinesLog, type WorkerLog } from './worker-log.js'

export interface WorkerGroup {
  /**
   * Stops taking jobs and waits for in-flight ones, at most `deadlineMs`. BullMQ's own `close()` has
   * no deadline; when ours passes, the jobs still running are left to the stalled-job check of other
   * workers (so their handlers may run again: that is what the idempotency key is for) and `forced`
   * is true. A process should exit non-zero then.
   */
  close(options: { deadlineMs: number }): Promise<{ forced: boolean }>
}

/** Starts one BullMQ worker per queue in this process, calling the application's handlers. */
export async function startWorkers(
  options: WorkerOptions & { handlers: DomainEventHandlers; log?: WorkerLog },
): Promise<WorkerGroup> {
  const { handlers, log = jsonLinesLog, ...rest } = options
  const config = parseOptions(workerOptionsSchema, rest)

  const selected = config.queues.map((queue) => {
    const type = EVENT_FOR_QUEUE[queue]
    const handler = handlers[type] as EventHandler<DomainEvent['type']> | undefined
    if (!handler) {
      throw new QueueError(
        'CSQ_ERR_INVALID_HANDLERS',
        `queue ${queue} is selected but there is no "${type}" handler`,
      )
    }
    return { queue, handler }
  })
  const redis = connectWorkerRedis(config.redisUrl, log)
  const lagRecorders: LagRecorder[] = []

  const workers = selected.map(({ queue, handler }) => {
    const worker = new Worker(queue, createProcessor(queue, handler), bullWorkerOptions(config, redis))
    const lag = new LagRecorder(redis, lagHistogramKey(config.prefix, queue), (error) =>
      log('error', 'could not record lag', { queue, error: String(error) }),
    )
    lagRecorders.push(lag)
    worker.on('completed', (job) => lag.record(Date.now() - Date.parse((job.data as DomainEvent).occurredAt)))
    worker.on('failed', (job, error) =>
      log('warn', 'job failed', { queue, jobId: job?.id, attempt: job?.attemptsMade, reason: error.message }),
    )
    worker.on('stalled', (jobId) => log('warn', 'stalled job moved back to wait', { queue, jobId }))
    // Without an 'error' listener a Redis hiccup would be an uncaught 'error' event and kill the process.
    worker.on('error', (error) => log('error', 'worker error', { queue, error: error.message }))
    return worker
  })

  await Promise.all(workers.map((worker) => worker.waitUntilReady()))
  await warnUnlessNoeviction(redis, log)
  log('info', 'worker ready', { queues: config.queues, concurrency: config.concurrency, pid: process.pid })

  return {
    close: ({ deadlineMs }) =>
      closeWithDeadline(
        workers,
        async () => {
          await Promise.all(lagRecorders.map((lag) => lag.close()))
          redis.disconnect()
        },
        deadlineMs,
      ),
  }
}

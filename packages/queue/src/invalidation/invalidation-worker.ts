import { UnrecoverableError, Worker } from 'bullmq'
import type { z } from 'zod'
import { parseOptions, workerOptionsSchema } from '../config.js'
import { describeIssues } from '../events/issues.js'
import { INVALIDATION_QUEUE } from '../queues/routing.js'
import { bullWorkerOptions, connectWorkerRedis } from '../worker/bull-worker-settings.js'
import { closeWithDeadline } from '../worker/close-with-deadline.js'
import { warnUnlessNoeviction } from '../worker/eviction-policy.js'
import type { WorkerGroup } from '../worker/worker-group.js'
import { jsonLinesLog, type WorkerLog } from '../worker/worker-log.js'
import { type CacheInvalidator, invalidationJobSchema } from './invalidation-job.js'

const invalidationWorkerOptionsSchema = workerOptionsSchema.omit({ queues: true })

export type InvalidationWorkerOptions = z.input<typeof invalidationWorkerOptionsSchema>

/**
 * Runs the `cache-invalidation` queue in this process: each job's target goes to `invalidator.invalidate`. A
 * rejection or an `ok: false` report is retried with the job's backoff; after the last attempt the job stays in the
 * failed set with the reason (logged at `error`). A malformed job fails at once, never retried.
 */
export async function startInvalidationWorker<Target extends object>(
  options: InvalidationWorkerOptions & { invalidator: CacheInvalidator<Target>; log?: WorkerLog },
): Promise<WorkerGroup> {
  const { invalidator, log = jsonLinesLog, ...rest } = options
  const config = parseOptions(invalidationWorkerOptionsSchema, rest)
  const redis = connectWorkerRedis(config.redisUrl, log)

  const worker = new Worker(
    INVALIDATION_QUEUE,
    async (job) => {
      const parsed = invalidationJobSchema.safeParse(job.data)
      if (!parsed.success) throw new UnrecoverableError(`invalid job: ${describeIssues(parsed.error.issues)}`)
      const report = await invalidator.invalidate(parsed.data.target as Target)
      if (!report.ok) throw new Error(`the cache reported the invalidation ${parsed.data.id} as not done`)
    },
    bullWorkerOptions(config, redis),
  )
  worker.on('failed', (job, error) => {
    const exhausted = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1)
    const unrecoverable = error instanceof UnrecoverableError
    log(
      exhausted || unrecoverable ? 'error' : 'warn',
      exhausted || unrecoverable ? 'invalidation dead-lettered' : 'invalidation failed, will retry',
      {
        queue: INVALIDATION_QUEUE,
        jobId: job?.id,
        attempt: job?.attemptsMade,
        reason: error.message,
      },
    )
  })
  worker.on('stalled', (jobId) =>
    log('warn', 'stalled job moved back to wait', { queue: INVALIDATION_QUEUE, jobId }),
  )
  worker.on('error', (error) =>
    log('error', 'worker error', { queue: INVALIDATION_QUEUE, error: error.message }),
  )

  await worker.waitUntilReady()
  await warnUnlessNoeviction(redis, log)
  log('info', 'invalidation worker ready', { concurrency: config.concurrency, pid: process.pid })
  return {
    close: ({ deadlineMs }) =>
      closeWithDeadline(
        [worker],
        async () => {
          redis.disconnect()
        },
        deadlineMs,
      ),
  }
}

import { UnrecoverableError } from 'bullmq'
import type { z } from 'zod'
import { parseOptions, workerOptionsSchema } from '../config.js'
import { describeIssues } from '../events/issues.js'
import { INVALIDATION_QUEUE } from '../queues/routing.js'
import { warnUnlessNoeviction } from '../worker/eviction-policy.js'
import { singleQueueWorker } from '../worker/single-queue-worker.js'
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
  const { worker, redis, group } = singleQueueWorker(
    INVALIDATION_QUEUE,
    async (job) => {
      const parsed = invalidationJobSchema.safeParse(job.data)
      if (!parsed.success) throw new UnrecoverableError(`invalid job: ${describeIssues(parsed.error.issues)}`)
      const report = await invalidator.invalidate(parsed.data.target as Target)
      if (!report.ok) throw new Error(`the cache reported the invalidation ${parsed.data.id} as not done`)
    },
    config,
    log,
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

  await worker.waitUntilReady()
  await warnUnlessNoeviction(redis, log)
  log('info', 'invalidation worker ready', { concurrency: config.concurrency, pid: process.pid })
  return group
}

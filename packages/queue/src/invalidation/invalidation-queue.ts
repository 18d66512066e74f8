import { randomUUID } from 'node:crypto'
import type { JobsOptions } from 'bullmq'
import { z } from 'zod'
import { connectionOptionsSchema, parseOptions } from '../config.js'
import { QueueError } from '../errors.js'
import { describeIssues } from '../events/issues.js'
import { QueueSet } from '../queues/queue-set.js'
import { INVALIDATION_QUEUE } from '../queues/routing.js'
import { type InvalidationJob, invalidationJobSchema } from './invalidation-job.js'

const invalidationQueueOptionsSchema = connectionOptionsSchema.extend({
  /** Tries in total before the job is dead-lettered (kept in the failed set). Default 8. */
  attempts: z.int().positive().default(8),
  /** Delay before the first retry, ms, doubled after each failure, with up to 50 % jitter. Default 1 000. */
  backoffMs: z.int().positive().default(1_000),
})

export type InvalidationQueueOptions = z.input<typeof invalidationQueueOptionsSchema>

/**
 * The durable retry of failed cache invalidations on BullMQ: a drop-in `retryScheduler` for a @cachesaga/saga runner
 * (`{ schedule(job) }`, matched structurally). Jobs go to the `cache-invalidation` queue, where
 * `startInvalidationWorker` calls the cache. With the defaults a job is tried for about four minutes (1 s, 2 s, ...
 * 64 s apart) before it lands in the failed set, the dead-letter queue that `QueueAdmin` lists and retries.
 */
export class InvalidationQueue {
  private readonly queues: QueueSet
  private readonly jobOptions: JobsOptions

  constructor(options: InvalidationQueueOptions) {
    const { attempts, backoffMs, ...connection } = parseOptions(invalidationQueueOptionsSchema, options)
    this.queues = new QueueSet(connection)
    this.jobOptions = {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs, jitter: 0.5 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: false,
    }
  }

  /** Enqueues a failed invalidation; throws `CSQ_ERR_INVALID_JOB` naming the field when the job is malformed. */
  async schedule(job: InvalidationJob<object>): Promise<void> {
    const parsed = invalidationJobSchema.safeParse(job)
    if (!parsed.success) throw new QueueError('CSQ_ERR_INVALID_JOB', describeIssues(parsed.error.issues))
    // BullMQ job ids cannot contain ':', which saga job ids do, so the id deduplicates instead.
    await this.queues.get(INVALIDATION_QUEUE).add(parsed.data.step, parsed.data, {
      ...this.jobOptions,
      jobId: randomUUID(),
      deduplication: { id: parsed.data.id },
    })
  }

  close(): Promise<void> {
    return this.queues.close()
  }
}

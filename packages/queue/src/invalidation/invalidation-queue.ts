import { randomUUID } from 'node:crypto'
import { describeIssues, durationSchema } from '@cachesaga/common'
import type { TraceCarrier } from '@cachesaga/common/tracing'
import type { JobsOptions } from 'bullmq'
import { z } from 'zod'
import { type ProducerOptions, parseOptions } from '../config.js'
import { QueueError } from '../errors.js'
import { INVALIDATION_QUEUE } from '../queues/internal-queues.js'
import { QueueSet } from '../queues/queue-set.js'
import { withTraceCarrier } from '../tracing/job-trace-context.js'
import { ATTR, tracing } from '../tracing/queue-tracing.js'
import { sendInSpan } from '../tracing/send-span.js'
import { type InvalidationJob, invalidationJobSchema } from './invalidation-job.js'

const retryOptionsSchema = z.object({
  /** Tries in total before the job is dead-lettered (kept in the failed set). Default 8. */
  attempts: z.int().positive().default(8),
  /** Delay before the first retry, doubled after each failure, with up to 50 % jitter. Default 1 s. */
  backoff: durationSchema.default(1_000),
})

export type InvalidationQueueOptions = ProducerOptions & z.input<typeof retryOptionsSchema>

/**
 * The durable retry of failed cache invalidations on BullMQ: a drop-in `retryScheduler` for a @cachesaga/saga runner
 * (`{ schedule(job) }`, matched structurally). Jobs go to the `cache-invalidation` queue, which `startWorkers` runs
 * when given an `invalidator`. With the defaults a job is tried for about four minutes (1 s, 2 s, ... 64 s apart)
 * before it lands in the failed set, the dead-letter queue that `QueueAdmin` lists and retries. Traced like a dispatch:
 * a `send cache-invalidation` span, the parent of the worker's `process cache-invalidation` spans.
 */
export class InvalidationQueue {
  private readonly queues: QueueSet
  private readonly jobOptions: JobsOptions

  constructor(options: InvalidationQueueOptions) {
    const { attempts, backoff, ...connection } = options
    const retry = parseOptions(retryOptionsSchema, { attempts, backoff })
    this.queues = new QueueSet(connection)
    this.jobOptions = {
      attempts: retry.attempts,
      backoff: { type: 'exponential', delay: retry.backoff, jitter: 0.5 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: false,
    }
  }

  /**
   * Enqueues a failed invalidation, within the timeout; throws `CSQ_ERR_INVALID_JOB` naming the field when the job is
   * malformed.
   */
  async schedule(job: InvalidationJob<object>): Promise<void> {
    const parsed = invalidationJobSchema.safeParse(job)
    if (!parsed.success) {
      throw new QueueError('CSQ_ERR_INVALID_JOB', describeIssues(parsed.error.issues), {
        details: { field: parsed.error.issues[0]?.path.join('.') },
      })
    }
    const tracer = tracing.tracer()
    if (tracer === undefined) {
      await this.send(parsed.data, undefined)
      return
    }
    const { id, sagaId, step } = parsed.data
    const attributes = { [ATTR.invalidationId]: id, [ATTR.sagaId]: sagaId, [ATTR.sagaStep]: step }
    return sendInSpan(tracer, INVALIDATION_QUEUE, attributes, async (carrier, span) => {
      span.setAttribute(ATTR.messageId, await this.send(parsed.data, carrier))
    })
  }

  close(): Promise<void> {
    return this.queues.close()
  }

  /** Enqueues a validated job; resolves to the id of the job that holds it (an earlier one when deduplicated). */
  private async send(
    job: z.output<typeof invalidationJobSchema>,
    carrier: TraceCarrier | undefined,
  ): Promise<string> {
    // BullMQ job ids cannot contain ':', which saga job ids do, so the id deduplicates instead.
    const options = { ...this.jobOptions, jobId: randomUUID(), deduplication: { id: job.id } }
    const added = await this.queues.run(INVALIDATION_QUEUE, (queue) =>
      queue.add(job.step, job, withTraceCarrier(options, carrier)),
    )
    return added.id ?? options.jobId
  }
}

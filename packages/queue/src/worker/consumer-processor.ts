import { otel, recordFailure } from '@cachesaga/common/tracing'
import type { Tracer } from '@opentelemetry/api'
import { type Job, type Processor, UnrecoverableError } from 'bullmq'
import { jobTraceContext } from '../tracing/job-trace-context.js'
import { ATTR, MESSAGING_SYSTEM, tracing } from '../tracing/queue-tracing.js'
import type { JobReader, PreparedJob } from './prepared-job.js'

/**
 * The BullMQ processor of one queue: reads each job with `read` and runs it. A job that cannot be read can never
 * succeed on retry, so it fails with `UnrecoverableError`, straight into the failed set, with the reason.
 *
 * With a tracer provider registered, each job runs in a CONSUMER span `process <queue>`, the child of the span that
 * enqueued it (the context the job carries), or a root when it carries none. The handler runs inside that span, so
 * what it does (queries, cache invalidations, further dispatches) joins the same trace.
 */
export function consumerProcessor(queue: string, read: JobReader): Processor {
  return async (job) => {
    const tracer = tracing.tracer()
    if (tracer === undefined) return readOrFail(read, job).run()
    return processInSpan(tracer, queue, job, read)
  }
}

function readOrFail(read: JobReader, job: Job): PreparedJob {
  try {
    return read(job)
  } catch (error) {
    throw new UnrecoverableError((error as Error).message)
  }
}

async function processInSpan(tracer: Tracer, queue: string, job: Job, read: JobReader): Promise<unknown> {
  const api = otel!
  const carried = jobTraceContext(job)
  // Never the worker's ambient context: whatever was active when the worker started is no parent of this job.
  const parent = carried !== undefined && 'context' in carried ? carried.context : api.ROOT_CONTEXT
  const span = tracer.startSpan(
    `process ${queue}`,
    {
      kind: api.SpanKind.CONSUMER,
      attributes: {
        [ATTR.system]: MESSAGING_SYSTEM,
        [ATTR.destination]: queue,
        [ATTR.operationType]: 'process',
        [ATTR.operationName]: 'process',
        [ATTR.messageId]: job.id ?? '',
        [ATTR.attempt]: Math.max(1, job.attemptsStarted),
      },
    },
    parent,
  )
  if (carried !== undefined && 'problem' in carried) {
    span.addEvent('cachesaga.trace_context_rejected', { reason: carried.problem })
  }
  return api.context.with(api.trace.setSpan(parent, span), async () => {
    let prepared: PreparedJob
    try {
      prepared = read(job)
    } catch (error) {
      span.setAttribute(ATTR.outcome, 'dead-lettered')
      recordFailure(span, error)
      span.end()
      throw new UnrecoverableError((error as Error).message)
    }
    span.setAttributes(prepared.attributes)
    try {
      const result = await prepared.run()
      span.setAttribute(ATTR.outcome, 'completed')
      return result
    } catch (error) {
      span.setAttribute(ATTR.outcome, isLastAttempt(job, error) ? 'dead-lettered' : 'retrying')
      recordFailure(span, error)
      throw error
    } finally {
      span.end()
    }
  })
}

/** Whether BullMQ moves the job to the failed set (the dead-letter queue) after this failure, rather than retrying. */
function isLastAttempt(job: Job, error: unknown): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
}

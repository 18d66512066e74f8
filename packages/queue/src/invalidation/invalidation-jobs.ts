import { describeIssues } from '@cachesaga/common'
import { QueueError } from '../errors.js'
import { ATTR } from '../tracing/queue-tracing.js'
import type { JobReader } from '../worker/prepared-job.js'
import { type CacheInvalidator, invalidationJobSchema } from './invalidation-job.js'

/**
 * Each job's target goes to `invalidator.invalidate`; a rejection or an `ok: false` report is retried with the job's
 * backoff. A malformed job (`CSQ_ERR_INVALID_JOB`) can never succeed.
 */
export function invalidationJobs(invalidator: CacheInvalidator<object>): JobReader {
  return (job) => {
    const parsed = invalidationJobSchema.safeParse(job.data)
    if (!parsed.success) {
      throw new QueueError('CSQ_ERR_INVALID_JOB', `invalid job: ${describeIssues(parsed.error.issues)}`, {
        details: { field: parsed.error.issues[0]?.path.join('.') },
      })
    }
    const { id, sagaId, step, target } = parsed.data
    return {
      attributes: { [ATTR.invalidationId]: id, [ATTR.sagaId]: sagaId, [ATTR.sagaStep]: step },
      run: async () => {
        const report = await invalidator.invalidate(target)
        if (!report.ok) throw new Error(`the cache reported the invalidation ${id} as not done`)
      },
    }
  }
}

import { describeIssues } from '@cachesaga/common'
import { type Processor, UnrecoverableError } from 'bullmq'
import { type CacheInvalidator, invalidationJobSchema } from './invalidation-job.js'

/**
 * Each job's target goes to `invalidator.invalidate`; a rejection or an `ok: false` report is retried with the job's
 * backoff. A malformed job can never succeed, so it fails at once, never retried.
 */
export function invalidationProcessor(invalidator: CacheInvalidator<object>): Processor {
  return async (job) => {
    const parsed = invalidationJobSchema.safeParse(job.data)
    if (!parsed.success) throw new UnrecoverableError(`invalid job: ${describeIssues(parsed.error.issues)}`)
    const report = await invalidator.invalidate(parsed.data.target)
    if (!report.ok) throw new Error(`the cache reported the invalidation ${parsed.data.id} as not done`)
  }
}

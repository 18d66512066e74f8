import { describeIssues } from '@cachesaga/common'
import { QueueError } from '../errors.js'
import { ATTR } from '../tracing/queue-tracing.js'
import type { JobReader } from '../worker/prepared-job.js'
import { type CacheMaintainer, maintenanceTaskSchema } from './cache-maintainer.js'

/** `warm` jobs call `maintainer.warm(names)`, `refresh` jobs one sweep; a malformed job (`CSQ_ERR_INVALID_JOB`) never runs. */
export function maintenanceJobs(maintainer: CacheMaintainer): JobReader {
  return (job) => {
    const parsed = maintenanceTaskSchema.safeParse(job.data)
    if (!parsed.success) {
      throw new QueueError('CSQ_ERR_INVALID_JOB', `invalid job: ${describeIssues(parsed.error.issues)}`, {
        details: { field: parsed.error.issues[0]?.path.join('.') },
      })
    }
    const task = parsed.data
    return {
      attributes: { [ATTR.maintenanceTask]: task.task },
      run: () => (task.task === 'warm' ? maintainer.warm(task.names) : maintainer.refresh()),
    }
  }
}

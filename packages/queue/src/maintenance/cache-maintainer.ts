import { describeIssues } from '@cachesaga/common'
import { z } from 'zod'
import { QueueError } from '../errors.js'
import { ATTR } from '../tracing/queue-tracing.js'
import type { JobReader } from '../worker/prepared-job.js'

/** What a maintenance worker calls: a `Cache['warmer']` of @cachesaga/core fits. */
export interface CacheMaintainer {
  warm(names?: readonly string[]): Promise<unknown>
  refresh(): Promise<unknown>
}

/** A maintenance job: warm some registered names (all when left out), or one refresh sweep. */
export const maintenanceTaskSchema = z.discriminatedUnion('task', [
  z.strictObject({ task: z.literal('warm'), names: z.array(z.string().min(1)).min(1).optional() }),
  z.strictObject({ task: z.literal('refresh') }),
])

export type MaintenanceTask = z.input<typeof maintenanceTaskSchema>

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

import { Queue } from 'bullmq'
import { z } from 'zod'
import { connectionOptionsSchema, parseOptions, workerOptionsSchema } from '../config.js'
import { connectRedis } from '../queues/connection.js'
import { singleQueueWorker } from '../worker/single-queue-worker.js'
import type { WorkerGroup } from '../worker/worker-group.js'
import { jsonLinesLog, type WorkerLog } from '../worker/worker-log.js'

/** The queue whose job schedulers drive cache warming and refresh sweeps. */
export const CACHE_MAINTENANCE_QUEUE = 'cache-maintenance'

/** What a maintenance worker calls: a `Cache['warmer']` of @cachesaga/core fits. */
export interface CacheMaintainer {
  warm(names?: readonly string[]): Promise<unknown>
  refresh(): Promise<unknown>
}

const taskSchema = z.discriminatedUnion('task', [
  z.object({ task: z.literal('warm'), names: z.array(z.string().min(1)).min(1).optional() }).strict(),
  z.object({ task: z.literal('refresh') }).strict(),
])

const scheduleSchema = z
  .object({
    /** The job scheduler's id: upserting the same id again replaces its timing, it never adds a second. */
    id: z.string().min(1),
    /** Milliseconds between runs. */
    every: z.int().positive().optional(),
    /** A cron pattern, instead of `every`. */
    pattern: z.string().min(1).optional(),
    job: taskSchema,
  })
  .strict()
  .refine((value) => (value.every === undefined) !== (value.pattern === undefined), {
    message: 'give exactly one of every or pattern',
    path: ['every'],
  })

const scheduleOptionsSchema = connectionOptionsSchema.extend({ schedules: z.array(scheduleSchema).min(1) })

export type MaintenanceSchedule = z.input<typeof scheduleSchema>

/**
 * Upserts one BullMQ job scheduler per schedule: Redis then produces exactly one job per tick,
 * however many instances or workers run, unlike a `setInterval` in every process.
 */
export async function scheduleCacheMaintenance(
  options: z.input<typeof scheduleOptionsSchema>,
): Promise<void> {
  const config = parseOptions(scheduleOptionsSchema, options)
  const connection = connectRedis(config.redisUrl, 'producer')
  const queue = new Queue(CACHE_MAINTENANCE_QUEUE, { connection, prefix: config.prefix })
  try {
    for (const schedule of config.schedules) {
      const repeat = schedule.every === undefined ? { pattern: schedule.pattern } : { every: schedule.every }
      await queue.upsertJobScheduler(schedule.id, repeat, { name: schedule.job.task, data: schedule.job })
    }
  } finally {
    await queue.close()
    connection.disconnect()
  }
}

const maintenanceWorkerSchema = workerOptionsSchema.omit({ queues: true }).extend({
  concurrency: z.int().positive().default(1),
})

/** Consumes the maintenance queue: `warm` jobs call `maintainer.warm(names)`, `refresh` jobs one sweep. */
export async function startCacheMaintenanceWorker(
  options: z.input<typeof maintenanceWorkerSchema> & { maintainer: CacheMaintainer; log?: WorkerLog },
): Promise<WorkerGroup> {
  const { maintainer, log = jsonLinesLog, ...rest } = options
  const config = parseOptions(maintenanceWorkerSchema, rest)
  const { worker, group } = singleQueueWorker(
    CACHE_MAINTENANCE_QUEUE,
    async (job) => {
      const task = taskSchema.parse(job.data)
      return task.task === 'warm' ? maintainer.warm(task.names) : maintainer.refresh()
    },
    config,
    log,
  )
  worker.on('failed', (job, error) =>
    log('error', 'cache maintenance failed', {
      queue: CACHE_MAINTENANCE_QUEUE,
      jobId: job?.id,
      reason: error.message,
    }),
  )
  await worker.waitUntilReady()
  return group
}

import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import { type ProducerOptions, parseOptions } from '../config.js'
import { CACHE_MAINTENANCE_QUEUE } from '../queues/internal-queues.js'
import { QueueSet } from '../queues/queue-set.js'
import { maintenanceTaskSchema } from './cache-maintainer.js'

const scheduleSchema = z
  .strictObject({
    /** The job scheduler's id: upserting the same id again replaces its timing, it never adds a second. */
    id: z.string().min(1),
    /** Time between runs (milliseconds or a string like `'5m'`). */
    every: durationSchema.optional(),
    /** A cron pattern, instead of `every`. */
    pattern: z.string().min(1).optional(),
    job: maintenanceTaskSchema,
  })
  .refine((value) => (value.every === undefined) !== (value.pattern === undefined), {
    message: 'give exactly one of every or pattern',
    path: ['every'],
  })

export type MaintenanceSchedule = z.input<typeof scheduleSchema>

const scheduleOptionsSchema = z.object({ schedules: z.array(scheduleSchema).min(1) })

/**
 * Upserts one BullMQ job scheduler per schedule on the `cache-maintenance` queue: Redis then produces exactly one job
 * per tick, however many instances or workers run, unlike a `setInterval` in every process. Takes the options of
 * `Dispatcher` (connection, prefix, timeout) besides `schedules`; the whole call is bounded by `timeout`.
 */
export async function scheduleCacheMaintenance(
  options: ProducerOptions & { schedules: MaintenanceSchedule[] },
): Promise<void> {
  const { schedules, ...connection } = options
  const parsed = parseOptions(scheduleOptionsSchema, { schedules })
  const queues = new QueueSet(connection)
  try {
    await queues.run(CACHE_MAINTENANCE_QUEUE, async (queue) => {
      for (const schedule of parsed.schedules) {
        const repeat =
          schedule.every === undefined ? { pattern: schedule.pattern } : { every: schedule.every }
        await queue.upsertJobScheduler(schedule.id, repeat, { name: schedule.job.task, data: schedule.job })
      }
    })
  } finally {
    await queues.close()
  }
}

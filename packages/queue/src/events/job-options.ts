import { durationSchema } from '@cachesaga/common'
import type { JobsOptions, KeepJobs } from 'bullmq'
import { z } from 'zod'

/** Keep finished jobs (`true`), drop them at once (`false`), or trim them by age and count. */
const keepJobsSchema = z.union([
  z.boolean(),
  z.strictObject({
    /** Jobs older than this are trimmed (BullMQ keeps whole seconds). */
    age: durationSchema.optional(),
    /** At most this many are kept. */
    count: z.int().nonnegative().optional(),
  }),
])

/** BullMQ's largest priority; 0 (or none) is "no priority", served before any prioritized job. */
const MAX_PRIORITY = 2_097_152

/** The job options a definition may set; durations are milliseconds or strings like `'30s'`. */
export const jobOptionsSchema = z.strictObject({
  /** Tries in total before the job stays in the failed set (the dead-letter queue). */
  attempts: z.int().positive().optional(),
  /** Wait between tries: `exponential` doubles `delay` after each failure; `jitter` (0..1) randomizes it. */
  backoff: z
    .strictObject({
      type: z.enum(['exponential', 'fixed']),
      delay: durationSchema,
      jitter: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** Wait before the first try. */
  delay: durationSchema.optional(),
  /** 1 is the highest priority, larger numbers are served later; leave it out for none. */
  priority: z.int().min(0).max(MAX_PRIORITY).optional(),
  removeOnComplete: keepJobsSchema.optional(),
  /** Failed jobs are the dead-letter queue, so they are kept unless this says otherwise. */
  removeOnFail: keepJobsSchema.optional(),
})

export type JobOptions = z.input<typeof jobOptionsSchema>

/** What a single dispatch may change: when the job becomes runnable, and before whom. */
export const dispatchOptionsSchema = jobOptionsSchema.pick({ delay: true, priority: true })

export type DispatchOptions = z.input<typeof dispatchOptionsSchema>

/**
 * The defaults: 6 attempts, exponential backoff from 500 ms with up to 50 % jitter (about 15 s in total), so a Redis or
 * database blip is ridden out without a thundering herd of retries. Completed jobs are trimmed (1 hour / 10,000);
 * failed jobs are kept, because the failed set is the dead-letter queue.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { age: '1h', count: 10_000 },
  removeOnFail: false,
} as const satisfies JobOptions

type ParsedJobOptions = z.output<typeof jobOptionsSchema>

/** BullMQ's job options from parsed ones; BullMQ counts the age of kept jobs in seconds. */
export function toBullJobOptions(options: ParsedJobOptions): JobsOptions {
  const bull: JobsOptions = {}
  if (options.attempts !== undefined) bull.attempts = options.attempts
  if (options.backoff !== undefined) bull.backoff = options.backoff
  if (options.delay !== undefined) bull.delay = options.delay
  if (options.priority !== undefined) bull.priority = options.priority
  if (options.removeOnComplete !== undefined) bull.removeOnComplete = toKeepJobs(options.removeOnComplete)
  if (options.removeOnFail !== undefined) bull.removeOnFail = toKeepJobs(options.removeOnFail)
  return bull
}

function toKeepJobs(keep: z.output<typeof keepJobsSchema>): boolean | KeepJobs {
  if (typeof keep === 'boolean') return keep
  if (keep.age === undefined) return keep.count === undefined ? true : { count: keep.count }
  const age = Math.ceil(keep.age / 1_000)
  return keep.count === undefined ? { age } : { age, count: keep.count }
}

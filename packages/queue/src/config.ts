import { z } from 'zod'
import { QueueError } from './errors.js'
import { describeIssues } from './events/issues.js'
import { QUEUE_NAMES, type QueueName } from './queues/routing.js'

const connectionShape = {
  /** Redis for BullMQ; it must run with `maxmemory-policy noeviction`. */
  redisUrl: z.url({ protocol: /^rediss?$/ }),
  /** Key prefix of every queue, so several apps can share one Redis. */
  prefix: z.string().min(1).default('cachesaga'),
}

export const connectionOptionsSchema = z.object(connectionShape)

export type ConnectionOptions = z.input<typeof connectionOptionsSchema>

/**
 * Stalled-job defaults for invalidation work: handlers take milliseconds, and a job stuck on a dead
 * worker leaves a cache stale, so a lost lock is noticed within ~15 s (lock + check interval) rather
 * than BullMQ's ~60 s. Going much lower risks false stalls when a busy event loop misses a lock
 * renewal; that is safe (handlers are idempotent) but wasteful. Two stalls are allowed before a job
 * fails, because re-running an idempotent invalidation is cheap.
 */
export const STALLED_DEFAULTS = { lockDurationMs: 10_000, stalledIntervalMs: 5_000, maxStalledCount: 2 }

export const workerOptionsSchema = z.object({
  ...connectionShape,
  /** Queues this process consumes; all of them when omitted. */
  queues: z
    .array(z.enum(QUEUE_NAMES as [QueueName, ...QueueName[]]))
    .min(1)
    .default([...QUEUE_NAMES]),
  /** Jobs run in parallel per queue. */
  concurrency: z.int().positive().default(8),
  /** How long a job's lock lasts without renewal before another worker may take it over. */
  lockDurationMs: z.int().positive().default(STALLED_DEFAULTS.lockDurationMs),
  /** How often this worker looks for jobs whose lock expired. */
  stalledIntervalMs: z.int().positive().default(STALLED_DEFAULTS.stalledIntervalMs),
  /** Stalls a job may survive before it is moved to the failed set. */
  maxStalledCount: z.int().nonnegative().default(STALLED_DEFAULTS.maxStalledCount),
})

export type WorkerOptions = z.input<typeof workerOptionsSchema>

/** Parses options at the boundary; throws `CSQ_ERR_INVALID_OPTIONS` naming the field. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) throw new QueueError('CSQ_ERR_INVALID_OPTIONS', describeIssues(parsed.error.issues))
  return parsed.data
}

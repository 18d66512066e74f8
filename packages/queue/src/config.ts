import { describeIssues, durationSchema, isClusterConnection, redisConnectionSchema } from '@cachesaga/common'
import { z } from 'zod'
import { QueueError } from './errors.js'

/**
 * The key prefix of every queue. The braces are a Redis Cluster hash tag: every key of every queue (jobs, locks,
 * deduplication keys, the lag histogram, purge tokens) hashes to one slot, which BullMQ's multi-key scripts require.
 */
export const DEFAULT_QUEUE_PREFIX = '{cachesaga}'

const HASH_TAG = /\{[^{}]+\}/

const connectionShape = {
  /** Redis for BullMQ (a URL, an ioredis `Redis` or `Cluster`, or options); it must run with `noeviction`. */
  redis: redisConnectionSchema,
  /** Key prefix of every queue, so several apps can share one Redis; on a cluster it needs a hash tag. */
  prefix: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
}

/** On a Redis Cluster a prefix without a hash tag would scatter a queue's keys over slots, which BullMQ cannot use. */
function requireHashTagOnCluster(options: { redis: unknown; prefix: string }, ctx: z.RefinementCtx): void {
  const { redis, prefix } = options
  if (isClusterConnection(redis as never) && !HASH_TAG.test(prefix)) {
    ctx.addIssue({
      code: 'custom',
      path: ['prefix'],
      message: `on a Redis Cluster the prefix needs a hash tag so each queue's keys share a slot, e.g. "{${prefix}}"`,
    })
  }
}

/** Options of everything that enqueues or inspects jobs: `Dispatcher`, `QueueAdmin`, `InvalidationQueue`. */
export const producerOptionsSchema = z
  .object({
    ...connectionShape,
    /** How long one call may wait for Redis (connecting included) before it fails with `CS_ERR_REDIS_UNREACHABLE`. */
    timeout: durationSchema.default(5_000),
  })
  .superRefine(requireHashTagOnCluster)

export type ProducerOptions = z.input<typeof producerOptionsSchema>

/**
 * Stalled-job defaults for invalidation work: handlers take milliseconds, and a job stuck on a dead worker leaves a
 * cache stale, so a lost lock is noticed within ~15 s (lock + check interval) rather than BullMQ's ~60 s. Going much
 * lower risks false stalls when a busy event loop misses a lock renewal; that is safe (handlers are idempotent) but
 * wasteful. Two stalls are allowed before a job fails, because re-running an idempotent invalidation is cheap.
 */
export const STALLED_DEFAULTS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 2 }

export const workerOptionsSchema = z
  .object({
    ...connectionShape,
    /** Queues this process consumes. Default: every queue it has handlers for. */
    queues: z.array(z.string().min(1)).min(1).optional(),
    /** Jobs run in parallel per queue (`cache-maintenance` always runs one at a time). */
    concurrency: z.int().positive().default(8),
    /** How long a job's lock lasts without renewal before another worker may take it over. */
    lockDuration: durationSchema.default(STALLED_DEFAULTS.lockDuration),
    /** How often this worker looks for jobs whose lock expired. */
    stalledInterval: durationSchema.default(STALLED_DEFAULTS.stalledInterval),
    /** Stalls a job may survive before it is moved to the failed set. */
    maxStalledCount: z.int().nonnegative().default(STALLED_DEFAULTS.maxStalledCount),
    /** How long start-up waits for Redis before it fails with `CS_ERR_REDIS_UNREACHABLE`. */
    timeout: durationSchema.default(10_000),
  })
  .superRefine(requireHashTagOnCluster)

export type WorkerSettings = z.output<typeof workerOptionsSchema>

/** Parses options at the boundary; throws `CSQ_ERR_INVALID_OPTIONS` naming the field. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, root?: string): z.output<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    throw new QueueError('CSQ_ERR_INVALID_OPTIONS', describeIssues(parsed.error.issues, root), {
      details: { field: parsed.error.issues[0]?.path.join('.') },
    })
  }
  return parsed.data
}

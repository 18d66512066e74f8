import { durationSchema, redisConnectionSchema } from '@cachesaga/common'
import { z } from 'zod'
import { SagaDefinition } from '../definition/define-saga.js'
import { retryPolicySchema } from '../definition/retry-policy.js'
import type { SagaEventEmitter } from '../events.js'
import type { InvalidationRetryScheduler } from '../invalidation/retry-scheduler.js'
import type { SagaCache } from '../invalidation/saga-cache.js'

const hasMethod = (name: string) => (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Record<string, unknown>)[name] === 'function'

/** A duration of at least `min` ms. */
const atLeast = (min: number) => durationSchema.refine((ms) => ms >= min, `must be at least ${min} ms`)

export const runnerOptionsSchema = z.object({
  /**
   * The Redis holding saga state: a URL, an ioredis `Redis` or `Cluster`, ioredis options, or `{ cluster: nodes }`.
   * The runner opens its own connection from it, closes that in `close()`, and never closes a client it was handed.
   */
  redis: redisConnectionSchema,
  /** Needed by sagas with `invalidateCache` steps: a @cachesaga/core cache or anything with `invalidate(target)`. */
  cache: z.custom<SagaCache>(hasMethod('invalidate'), 'expected an object with invalidate()').optional(),
  /** Receives every transition (see `SagaEventName`). */
  events: z.custom<SagaEventEmitter>(hasMethod('emit'), 'expected an object with emit()').optional(),
  /** Definitions the recovery sweep may resume. Sagas passed to `run()` are added automatically. */
  sagas: z.array(z.instanceof(SagaDefinition)).default([]),
  /**
   * Where non-blocking invalidation steps send failed invalidations. Default: the saga store keeps them and the
   * runner's own sweeps retry them.
   */
  retryScheduler: z
    .custom<InvalidationRetryScheduler>(hasMethod('schedule'), 'expected an object with schedule()')
    .optional(),
  /** Prefix of every Redis key. Default `cachesaga:saga:`. No braces: the runner adds the hash tags. */
  keyPrefix: z
    .string()
    .min(1)
    .refine((prefix) => !/[{}]/.test(prefix), 'must not contain { or }: the runner adds the hash tags itself')
    .default('cachesaga:saga:'),
  /**
   * How long `run`, `recover` and operator actions wait for Redis to be ready before failing with
   * CS_ERR_REDIS_UNREACHABLE (nothing run). Default `'10s'`.
   */
  connectTimeout: atLeast(1).default(10_000),
  /** How long one Redis command may take before it fails with CS_ERR_REDIS_UNREACHABLE. Default `'5s'`. */
  commandTimeout: atLeast(1).default(5_000),
  /** How long a runner owns a saga without renewing; a crashed runner's sagas are resumed after this. Default `'30s'`. */
  lease: atLeast(50).default(30_000),
  /** Pause between recovery sweeps once `start()` is called. Default `'10s'`. */
  sweepInterval: atLeast(10).default(10_000),
  /**
   * How long a saga in a final state (completed, compensated, resolved) is kept, so that a duplicate delivery still
   * gets its recorded outcome. Older ones are deleted by the recovery sweeps, a batch at a time; the same id would then
   * run as a new saga. Parked and compensation_failed sagas are never deleted. Default `'30d'`.
   */
  retainFinished: atLeast(1).default(30 * 86_400_000),
  /** Retry of failing compensations before the saga rests as `compensation_failed`. Defaults: `RetryPolicy`. */
  compensationRetry: retryPolicySchema.prefault({}),
})

export type SagaRunnerOptions = z.input<typeof runnerOptionsSchema>
/** The options with every duration in milliseconds. */
export type ResolvedRunnerOptions = z.output<typeof runnerOptionsSchema>

import type { Redis } from 'ioredis'
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

export const runnerOptionsSchema = z.object({
  /** The ioredis client holding saga state. The runner never closes it. */
  redis: z.custom<Redis>(hasMethod('evalsha'), 'expected an ioredis client'),
  /** Needed by sagas with `invalidateCache` steps: a @cachesaga/core cache or anything with `invalidate(target)`. */
  cache: z.custom<SagaCache>(hasMethod('invalidate'), 'expected an object with invalidate()').optional(),
  /** Receives every transition (see `SagaEventName`). */
  events: z.custom<SagaEventEmitter>(hasMethod('emit'), 'expected an object with emit()').optional(),
  /** Definitions the recovery sweep may resume. Sagas passed to `run()` are added automatically. */
  sagas: z.array(z.instanceof(SagaDefinition)).default([]),
  /**
   * Where non-blocking invalidation steps send failed invalidations. Default: a Redis-backed scheduler whose jobs the
   * runner's own sweeps retry.
   */
  retryScheduler: z
    .custom<InvalidationRetryScheduler>(hasMethod('schedule'), 'expected an object with schedule()')
    .optional(),
  /** Prefix of every Redis key. Default `cachesaga:saga:`. */
  keyPrefix: z.string().min(1).default('cachesaga:saga:'),
  /** How long a runner owns a saga without renewing; a crashed runner's sagas are resumed after this. Default 30 s. */
  leaseMs: z.number().int().min(50).default(30_000),
  /** Pause between recovery sweeps once `start()` is called. Default 10 s. */
  sweepIntervalMs: z.number().int().min(10).default(10_000),
  /**
   * How long a saga in a final state (completed, compensated, resolved) is kept, so that a duplicate delivery still
   * gets its recorded outcome. Older ones are deleted by the recovery sweeps, a batch at a time; the same id would then
   * run as a new saga. Parked and compensation_failed sagas are never deleted. Default 30 days.
   */
  retainFinishedMs: z
    .number()
    .int()
    .min(1)
    .default(30 * 86_400_000),
  /** Retry of failing compensations before the saga is parked as `compensation_failed`. Defaults: `RetryPolicy`. */
  compensationRetry: retryPolicySchema.prefault({}),
})

export type SagaRunnerOptions = z.input<typeof runnerOptionsSchema>
export type ResolvedRunnerOptions = z.output<typeof runnerOptionsSchema>

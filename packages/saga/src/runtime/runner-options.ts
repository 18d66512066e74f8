import { redisConnectionSchema } from '@cachesaga/common'
import { z } from 'zod'
import { SagaDefinition } from '../definition/define-saga.js'
import { retryPolicySchema } from '../definition/retry-policy.js'
import type { SagaEventEmitter } from '../events.js'
import type { InvalidationRetryScheduler } from '../invalidation/retry-scheduler.js'
import type { SagaCache } from '../invalidation/saga-cache.js'
import { durationAtLeast, redisStoreSettings } from '../store/redis/redis-store-options.js'
import type { SagaStore } from '../store/saga-store.js'
import { jsonLinesLog, type SagaLog } from './log.js'

const hasMethod = (name: string) => (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Record<string, unknown>)[name] === 'function'

export const runnerOptionsSchema = z
  .object({
    /**
     * The Redis holding saga state: a URL, an ioredis `Redis` or `Cluster`, ioredis options, or `{ cluster: nodes }`.
     * The runner opens its own connection from it (a Redis store), closes that in `close()`, and never closes a client
     * it was handed. Give either `redis` or `store`.
     */
    redis: redisConnectionSchema.optional(),
    /**
     * Any `SagaStore` instead of `redis` (one you made with `createRedisSagaStore`, or another implementation). The
     * runner never closes a store it was handed.
     */
    store: z
      .custom<SagaStore>(
        hasMethod('advance'),
        'expected a SagaStore (an object with acquire(), advance(), ...)',
      )
      .optional(),
    ...redisStoreSettings,
    /**
     * Refuse to drive sagas on a store that can lose them silently (for Redis: no append-only file, or an evicting
     * maxmemory-policy), with SAGA_ERR_STORE_NOT_DURABLE saying what to set. `false` runs anyway, knowingly (tests,
     * demos, a server whose settings cannot be read but are known), and logs a warning once. Default `true`.
     */
    requireDurableStore: z.boolean().default(true),
    /** Where the runner writes what a person should know (a store that is not durable). Default: JSON lines on stderr. */
    log: z
      .custom<SagaLog>((value) => typeof value === 'function', 'expected a function')
      .default(() => jsonLinesLog),
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
    /** How long a runner owns a saga without renewing; a crashed runner's sagas are resumed after this. Default `'30s'`. */
    lease: durationAtLeast(50).default(30_000),
    /** Pause between recovery sweeps once `start()` is called. Default `'10s'`. */
    sweepInterval: durationAtLeast(10).default(10_000),
    /**
     * How long a saga in a final state (completed, compensated, resolved) is kept, so that a duplicate delivery still
     * gets its recorded outcome. Older ones are deleted by the recovery sweeps, a batch at a time; the same id would then
     * run as a new saga. Parked and compensation_failed sagas are never deleted. Default `'30d'`.
     */
    retainFinished: durationAtLeast(1).default(30 * 86_400_000),
    /** Retry of failing compensations before the saga rests as `compensation_failed`. Defaults: `RetryPolicy`. */
    compensationRetry: retryPolicySchema.prefault({}),
  })
  .superRefine((options, ctx) => {
    if ((options.redis === undefined) === (options.store === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['redis'],
        message: 'give either `redis` or `store` (one of them)',
      })
    }
  })

export type SagaRunnerOptions = z.input<typeof runnerOptionsSchema>
/** The options with every duration in milliseconds. */
export type ResolvedRunnerOptions = z.output<typeof runnerOptionsSchema>

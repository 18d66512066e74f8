import type { InvalidationTarget } from '@cachesaga/core'
import { z } from 'zod'
import { type RetryPolicyInput, stepSettingsSchema } from '../definition/retry-policy.js'
import type { SagaStep, StepContext, StepServices } from '../definition/step.js'
import { SagaError } from '../errors.js'
import { parseOrThrow } from '../parse.js'

export interface InvalidateCacheOptions {
  /** Step name, unique in the saga. Default `invalidate-cache`. */
  name?: string
  /**
   * Default true: a failed invalidation fails the step, which is retried and then compensated or parked like any
   * step. false: a failed invalidation is handed to the runner's retry scheduler (one attempt here), the saga goes
   * on, and its record counts it in `deferredInvalidations`.
   */
  blocking?: boolean
  /** Retry of a blocking invalidation. Defaults: see `retryPolicySchema`. */
  retry?: RetryPolicyInput
  /** Default 30 000. */
  timeoutMs?: number
}

const invalidateCacheSchema = stepSettingsSchema.extend({
  name: z.string().min(1).default('invalidate-cache'),
  blocking: z.boolean().default(true),
})

export type TargetSource<Input, Results> =
  | InvalidationTarget
  | ((ctx: StepContext<Input, Results>) => InvalidationTarget)

/**
 * A step that invalidates cache entries. Its compensation invalidates the same target again, and runs after every
 * other compensation of the saga (not in plain reverse order): readers may refill the cache at any moment between the
 * forward invalidation and the end of the rollback, and only an invalidation that follows the last data-restoring
 * compensation is sure to leave no rolled-back value behind.
 */
export function invalidateCache<Input, Results>(
  target: TargetSource<Input, Results>,
  options: InvalidateCacheOptions = {},
): SagaStep<Input, Results> {
  const { name, blocking, retry, timeoutMs } = parseOrThrow(
    invalidateCacheSchema,
    options,
    'SAGA_ERR_DEFINITION',
    'invalidateCache',
  )
  const resolve = typeof target === 'function' ? target : () => target
  const invalidate = async (ctx: StepContext<Input, Results>, services: StepServices) => {
    const resolved = resolve(ctx)
    try {
      await invalidateOrThrow(services, resolved)
    } catch (error) {
      if (blocking) throw error
      await services.deferInvalidation(resolved, error)
    }
    return resolved
  }
  return {
    name,
    kind: 'invalidation',
    retry,
    timeoutMs,
    run: async (ctx, services) => ({ target: await invalidate(ctx, services) }),
    compensate: async (ctx, services) => {
      await invalidate(ctx, services)
    },
  }
}

async function invalidateOrThrow(services: StepServices, target: InvalidationTarget): Promise<void> {
  if (!services.cache) {
    throw new SagaError('SAGA_ERR_INVALID_OPTIONS', 'an invalidateCache step needs the runner option `cache`')
  }
  const report = await services.cache.invalidate(target)
  if (!report.ok) {
    throw new SagaError(
      'SAGA_ERR_INVALIDATION_FAILED',
      `the cache reported ${JSON.stringify(target)} as not done`,
    )
  }
}

import { type Duration, errorCode } from '@cachesaga/common'
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
   * on, and its record counts it in `deferredInvalidations`. A target the cache refuses is never retried either way.
   */
  blocking?: boolean
  /** Retry of a blocking invalidation. Defaults: see `retryPolicySchema`. */
  retry?: RetryPolicyInput
  /** Default `'30s'`. */
  timeout?: Duration
}

const invalidateCacheSchema = stepSettingsSchema.extend({
  name: z.string().min(1).default('invalidate-cache'),
  blocking: z.boolean().default(true),
})

export type TargetSource<Input, Results> =
  | InvalidationTarget
  | ((ctx: StepContext<Input, Results>) => InvalidationTarget)

/**
 * Codes with which @cachesaga/core refuses a target itself (malformed, a match-all pattern, a bad key): the same call
 * fails the same way every time, so it is a deterministic failure, not one to retry or defer.
 */
const REFUSED_TARGET_CODES = new Set([
  'CS_ERR_INVALID_TARGET',
  'CS_ERR_MATCH_ALL_REFUSED',
  'CS_ERR_INVALID_KEY',
])

/**
 * A step that invalidates cache entries. Its compensation invalidates the recorded target again, and runs after every
 * other compensation of the saga (not in plain reverse order): readers may refill the cache at any moment between the
 * forward invalidation and the end of the rollback, and only an invalidation that follows the last data-restoring
 * compensation is sure to leave no rolled-back value behind.
 */
export function invalidateCache<Input, Results>(
  target: TargetSource<Input, Results>,
  options: InvalidateCacheOptions = {},
): SagaStep<Input, Results> {
  const { name, blocking, retry, timeout } = parseOrThrow(
    invalidateCacheSchema,
    options,
    'SAGA_ERR_DEFINITION',
    'invalidateCache',
  )
  const resolve = typeof target === 'function' ? target : () => target
  const invalidate = async (resolved: InvalidationTarget, services: StepServices) => {
    try {
      await invalidateOrThrow(services, resolved)
    } catch (error) {
      if (blocking || errorCode(error) === 'SAGA_ERR_INVALID_TARGET') throw error
      await services.deferInvalidation(resolved, error)
    }
    return resolved
  }
  return {
    name,
    kind: 'invalidation',
    retry,
    timeoutMs: timeout,
    run: async (ctx, services) => ({ target: await invalidate(resolve(ctx), services) }),
    compensate: async (ctx, services) => {
      // The target the forward step recorded, when it got that far: the one the cache accepted.
      const recorded = (ctx.result as { target?: InvalidationTarget } | undefined)?.target
      await invalidate(recorded ?? resolve(ctx), services)
    },
  }
}

async function invalidateOrThrow(services: StepServices, target: InvalidationTarget): Promise<void> {
  if (!services.cache) {
    throw new SagaError(
      'SAGA_ERR_INVALID_OPTIONS',
      'an invalidateCache step needs the runner option `cache`',
      {
        details: { option: 'cache' },
      },
    )
  }
  let report: { ok: boolean }
  try {
    report = await services.cache.invalidate(target)
  } catch (error) {
    const cacheCode = errorCode(error)
    if (cacheCode === undefined || !REFUSED_TARGET_CODES.has(cacheCode)) throw error
    throw new SagaError(
      'SAGA_ERR_INVALID_TARGET',
      `the cache refused the target: ${(error as Error).message}`,
      {
        cause: error,
        details: { cacheCode, target },
      },
    )
  }
  if (!report.ok) {
    throw new SagaError(
      'SAGA_ERR_INVALIDATION_FAILED',
      `the cache reported ${JSON.stringify(target)} as not done`,
      {
        details: { target },
      },
    )
  }
}

import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'

/** How often, and how patiently, a failing step (or compensation) is tried again. */
export const retryPolicySchema = z.object({
  /** Attempts in total, the first one included. Default 3. */
  attempts: z.number().int().min(1).default(3),
  /** `exponential` doubles the delay after every failure; `fixed` keeps it. Default `exponential`. */
  backoff: z.enum(['exponential', 'fixed']).default('exponential'),
  /** Delay before the second attempt (ms or a string like `'100ms'`). Default 100 ms. */
  initialDelay: durationSchema.default(100),
  /** Upper bound of any delay. Default `'10s'`. */
  maxDelay: durationSchema.default(10_000),
})

/** A retry policy with its delays in milliseconds. */
export type RetryPolicy = z.output<typeof retryPolicySchema>
export type RetryPolicyInput = z.input<typeof retryPolicySchema>

/**
 * Delay in ms after the `failures`-th failure. "Equal jitter": half the delay is fixed and half random, so runners
 * that failed together do not retry together, yet no retry comes sooner than half the planned delay.
 */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  const growth = policy.backoff === 'exponential' ? 2 ** Math.max(0, failures - 1) : 1
  const planned = Math.min(policy.maxDelay, policy.initialDelay * growth)
  return planned / 2 + Math.random() * (planned / 2)
}

/** Settings every kind of step shares. */
export const stepSettingsSchema = z.object({
  retry: retryPolicySchema.prefault({}),
  /** An attempt running longer fails with SAGA_ERR_STEP_TIMEOUT (transient). Default `'30s'`. */
  timeout: durationSchema.refine((ms) => ms > 0, 'must be more than 0 ms').default(30_000),
})

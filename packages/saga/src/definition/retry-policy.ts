import { z } from 'zod'

/** How often, and how patiently, a failing step (or compensation) is tried again. */
export const retryPolicySchema = z.object({
  /** Attempts in total, the first one included. Default 3. */
  attempts: z.number().int().min(1).default(3),
  /** `exponential` doubles the delay after every failure; `fixed` keeps it. Default `exponential`. */
  backoff: z.enum(['exponential', 'fixed']).default('exponential'),
  /** Delay before the second attempt, ms. Default 100. */
  initialDelayMs: z.number().int().min(0).default(100),
  /** Upper bound of any delay, ms. Default 10 000. */
  maxDelayMs: z.number().int().min(0).default(10_000),
})

export type RetryPolicy = z.output<typeof retryPolicySchema>
export type RetryPolicyInput = z.input<typeof retryPolicySchema>

/**
 * Delay after the `failures`-th failure. "Equal jitter": half the delay is fixed and half random, so runners that
 * failed together do not retry together, yet no retry comes sooner than half the planned delay.
 */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  const growth = policy.backoff === 'exponential' ? 2 ** Math.max(0, failures - 1) : 1
  const planned = Math.min(policy.maxDelayMs, policy.initialDelayMs * growth)
  return planned / 2 + Math.random() * (planned / 2)
}

/** Settings every kind of step shares. */
export const stepSettingsSchema = z.object({
  retry: retryPolicySchema.prefault({}),
  /** Ms before an attempt counts as a transient failure (SAGA_ERR_STEP_TIMEOUT). Default 30 000. */
  timeoutMs: z.number().int().positive().default(30_000),
})

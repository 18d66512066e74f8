import { z } from 'zod'

/**
 * A cache invalidation that failed where it was first tried (a non-blocking `invalidateCache` step of
 * @cachesaga/saga) and must be done later. The shape is @cachesaga/saga's `InvalidationRetryJob`, restated here so
 * that neither package depends on the other: `target` is opaque to this package and handed to the invalidator as
 * is (a @cachesaga/core cache parses it itself).
 */
export const invalidationJobSchema = z.object({
  /** Stable per failed invalidation (`<sagaId>:<step>:<phase>`); scheduling it again while pending keeps one job. */
  id: z.string().min(1),
  sagaId: z.string().min(1),
  step: z.string().min(1),
  target: z.record(z.string(), z.unknown()),
  /** Why the first attempt failed, as recorded by the saga. */
  error: z.object({ code: z.string().optional(), name: z.string(), message: z.string() }),
})

export type InvalidationJob<Target extends object = Record<string, unknown>> = Omit<
  z.output<typeof invalidationJobSchema>,
  'target'
> & { target: Target }

/** What the worker calls: a @cachesaga/core cache fits as is. A report with `ok: false` counts as a failure. */
export interface CacheInvalidator<Target extends object = Record<string, unknown>> {
  invalidate(target: Target): Promise<{ ok: boolean }>
}

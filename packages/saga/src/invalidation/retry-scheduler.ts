import type { InvalidationTarget } from '@cachesaga/core'
import type { RecordedError } from '../errors.js'
import { recordError } from '../runtime/failure.js'
import { runWithTimeout } from '../runtime/run-with-timeout.js'
import type { SagaStore } from '../store/saga-store.js'
import type { SagaCache } from './saga-cache.js'

/** An invalidation that failed in a non-blocking `invalidateCache` step and must be done later. */
export interface InvalidationRetryJob {
  /** `<sagaId>:<step>:<phase>`: scheduling the same job twice keeps one. */
  id: string
  sagaId: string
  step: string
  target: InvalidationTarget
  error: RecordedError
}

/**
 * Where non-blocking invalidation steps send what they could not do. @cachesaga/queue provides one backed by its
 * queues; without it the runner uses `StoreRetryScheduler` and retries the jobs in its sweeps.
 */
export interface InvalidationRetryScheduler {
  schedule(job: InvalidationRetryJob): Promise<void>
}

/**
 * The default scheduler: jobs wait in the saga store until a recovery sweep retries them. A claimed job is hidden for
 * `retryDelayMs`; it is deleted only once the cache confirms the invalidation, so a failed retry or a crashed runner
 * leaves it to the next sweep after that delay.
 */
export class StoreRetryScheduler implements InvalidationRetryScheduler {
  constructor(
    private readonly store: SagaStore,
    private readonly retryDelayMs: number,
  ) {}

  schedule(job: InvalidationRetryJob): Promise<void> {
    return this.store.scheduleInvalidationRetry(job)
  }

  /**
   * Retries the jobs that are due, each bounded by `retryDelayMs` (a cache that hangs must not stall the recovery
   * sweep that calls this, and a longer try would overlap the next claim of the same job). Returns how many were
   * done and the jobs that failed again.
   */
  async retryDue(
    cache: SagaCache,
    limit = 100,
  ): Promise<{ done: number; failed: Array<{ job: InvalidationRetryJob; error: RecordedError }> }> {
    const claimed = await this.store.claimInvalidationRetries(limit, this.retryDelayMs)
    const failed: Array<{ job: InvalidationRetryJob; error: RecordedError }> = []
    let done = 0
    for (const job of claimed) {
      try {
        const report = await runWithTimeout(this.retryDelayMs, () => cache.invalidate(job.target))
        if (!report.ok) throw new Error(`the cache reported the invalidation of ${job.id} as not done`)
        await this.store.ackInvalidationRetry(job)
        done++
      } catch (error) {
        failed.push({ job, error: recordError(error, 'SAGA_ERR_INVALIDATION_FAILED') })
      }
    }
    return { done, failed }
  }
}

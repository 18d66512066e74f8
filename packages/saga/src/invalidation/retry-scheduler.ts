import type { InvalidationTarget } from '@cachesaga/core'
import type { Redis } from 'ioredis'
import { type RecordedError, recordError } from '../errors.js'
import { runWithTimeout } from '../runtime/run-with-timeout.js'
import { scripts } from '../store/lua-script.js'
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
 * queues; without it the runner uses `RedisInvalidationRetryScheduler` and retries the jobs in its sweeps.
 */
export interface InvalidationRetryScheduler {
  schedule(job: InvalidationRetryJob): Promise<void>
}

/**
 * The default scheduler: jobs wait in Redis (a due-time zset and a job hash) until a recovery sweep retries them. A
 * claimed job is hidden for `retryDelayMs`; it is deleted only once the cache confirms the invalidation, so a failed
 * retry or a crashed runner leaves it to the next sweep after that delay.
 */
export class RedisInvalidationRetryScheduler implements InvalidationRetryScheduler {
  constructor(
    private readonly redis: Redis,
    private readonly keys: { due: string; jobs: string },
    private readonly retryDelayMs: number,
  ) {}

  async schedule(job: InvalidationRetryJob): Promise<void> {
    await scripts.scheduleInvalidationRetry.run(
      this.redis,
      [this.keys.due, this.keys.jobs],
      [job.id, JSON.stringify(job), 0],
    )
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
    const claimed = (await scripts.claimInvalidationRetries.run(
      this.redis,
      [this.keys.due, this.keys.jobs],
      [limit, this.retryDelayMs],
    )) as string[]
    const failed: Array<{ job: InvalidationRetryJob; error: RecordedError }> = []
    let done = 0
    for (let i = 0; i + 1 < claimed.length; i += 2) {
      // The job JSON was written by `schedule` above, not by an outside party.
      const job = JSON.parse(claimed[i + 1]!) as InvalidationRetryJob
      try {
        const report = await runWithTimeout(this.retryDelayMs, () => cache.invalidate(job.target))
        if (!report.ok) throw new Error(`the cache reported the invalidation of ${job.id} as not done`)
        await scripts.ackInvalidationRetry.run(this.redis, [this.keys.due, this.keys.jobs], [claimed[i]!])
        done++
      } catch (error) {
        failed.push({ job, error: recordError(error) })
      }
    }
    return { done, failed }
  }
}

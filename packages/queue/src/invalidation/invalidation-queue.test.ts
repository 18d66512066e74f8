import { randomUUID } from 'node:crypto'
import { type Cache, createCache, type InvalidationTarget } from '@cachesaga/core'
import { afterEach, describe, expect, it } from 'vitest'
import { QueueAdmin } from '../admin/queue-admin.js'
import { INVALIDATION_QUEUE } from '../queues/internal-queues.js'
import { eventually } from '../test-support/eventually.js'
import { scopedQueues } from '../test-support/scoped-queues.js'
import { useRedis } from '../test-support/use-redis.js'
import type { WorkerGroup } from '../worker/worker-group.js'
import { startWorkers } from '../worker/worker-group.js'
import type { WorkerLog } from '../worker/worker-log.js'
import type { CacheInvalidator } from './invalidation-job.js'
import { InvalidationQueue } from './invalidation-queue.js'

/** A real cache whose invalidations reject while `failuresLeft` is above zero, counting every call. */
class FlakyCache implements CacheInvalidator<InvalidationTarget> {
  calls = 0
  constructor(
    private readonly cache: Cache,
    public failuresLeft: number,
  ) {}
  async invalidate(target: InvalidationTarget) {
    this.calls++
    if (this.failuresLeft > 0) {
      this.failuresLeft--
      throw new Error('Redis connection lost during invalidation')
    }
    return this.cache.invalidate(target)
  }
}

const failedJob = (target: InvalidationTarget, id = `saga-${randomUUID()}:invalidate:step`) => ({
  id,
  sagaId: id.split(':')[0]!,
  step: 'invalidate',
  target,
  error: { name: 'Error', message: 'Redis connection lost during invalidation' },
})

describe('the cache-invalidation queue', () => {
  const env = useRedis()
  const open: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close()
  })

  const setup = async (options: { failures?: number; attempts?: number } = {}) => {
    const scoped = scopedQueues(env.redis)
    const connection = { redis: env.server.url, prefix: scoped.prefix }
    const cache = createCache({ namespace: `inv-${randomUUID().slice(0, 8)}`, redis: env.server.url })
    await cache.ready()
    const flaky = new FlakyCache(cache, options.failures ?? 0)
    const queue = new InvalidationQueue({ ...connection, attempts: options.attempts ?? 3, backoff: 10 })
    const admin = new QueueAdmin(connection)
    const logs: Parameters<WorkerLog>[] = []
    let worker: WorkerGroup | undefined
    const startWorker = async () => {
      worker = await startWorkers({
        ...connection,
        invalidator: flaky,
        log: (...entry) => logs.push(entry),
      })
    }
    open.push(
      () => cache.close(),
      () => scoped.close(),
      () => admin.close(),
      () => queue.close(),
      async () => expect(await worker?.close({ timeout: '5s' })).not.toEqual({ forced: true }),
    )
    let loads = 0
    const read = () => cache.getOrSet('staff:s1:profile', () => ++loads, { tags: ['staff:s1'] })
    const counts = () =>
      scoped.queue(INVALIDATION_QUEUE).getJobCounts('waiting', 'delayed', 'completed', 'failed')
    return {
      cache,
      flaky,
      queue,
      admin,
      logs,
      read,
      counts,
      startWorker,
      bull: scoped.queue(INVALIDATION_QUEUE),
    }
  }

  it('carries out a scheduled invalidation on the real cache', async () => {
    const { queue, read, counts, startWorker } = await setup()
    expect([await read(), await read()]).toEqual([1, 1])
    await startWorker()
    await queue.schedule(failedJob({ tags: ['staff:s1'] }))
    await eventually('the job to complete', async () => (await counts()).completed === 1)
    expect(await read()).toBe(2)
  })

  it('retries a failing cache with backoff until the invalidation is done', async () => {
    const { flaky, queue, read, counts, logs, startWorker } = await setup({ failures: 2, attempts: 3 })
    await read()
    await startWorker()
    await queue.schedule(failedJob({ tags: ['staff:s1'] }))
    await eventually('the job to complete', async () => (await counts()).completed === 1)
    expect(flaky.calls).toBe(3)
    expect(await read()).toBe(2)
    expect(logs.filter(([, message]) => message === 'invalidation failed, will retry')).toHaveLength(2)
  })

  it('dead-letters an invalidation that fails on every attempt, with the reason, for an operator to retry', async () => {
    const { flaky, queue, admin, read, counts, logs, startWorker } = await setup({ failures: 3, attempts: 3 })
    await read()
    await startWorker()
    const job = failedJob({ tags: ['staff:s1'] })
    await queue.schedule(job)
    const deadLettered = () =>
      logs.filter(([level, message]) => level === 'error' && message === 'invalidation dead-lettered')
    // The log line follows the move to the failed set, from the worker's 'failed' event: wait for both.
    await eventually(
      'the job to be dead-lettered',
      async () => (await counts()).failed === 1 && deadLettered().length > 0,
    )
    const [letter] = await admin.deadLetters(INVALIDATION_QUEUE)
    expect(letter).toMatchObject({
      attemptsMade: 3,
      failedReason: 'Redis connection lost during invalidation',
      data: job,
    })
    expect(deadLettered()).toHaveLength(1)
    expect(await read()).toBe(1)

    // The cache is back: the operator's retry goes through the worker and the stale entry is gone.
    expect(flaky.failuresLeft).toBe(0)
    await admin.retry(INVALIDATION_QUEUE, letter!.jobId)
    await eventually('the retried job to complete', async () => (await counts()).completed === 1)
    expect(await read()).toBe(2)
  })

  it('keeps one job when the same failed invalidation is scheduled twice while pending', async () => {
    const { queue, counts } = await setup()
    const job = failedJob({ keys: ['k'] })
    await queue.schedule(job)
    await queue.schedule({ ...job, error: { name: 'Error', message: 'failed again after a crash' } })
    expect(await counts()).toMatchObject({ waiting: 1 })
  })

  it('refuses a malformed job at schedule, naming the field; one slipped in behind its back fails without retries', async () => {
    const { queue, bull, counts, flaky, startWorker } = await setup()
    await expect(queue.schedule({ ...failedJob({ keys: ['k'] }), sagaId: '' })).rejects.toMatchObject({
      code: 'CSQ_ERR_INVALID_JOB',
      message: expect.stringContaining('sagaId: '),
    })
    expect(await counts()).toMatchObject({ waiting: 0 })

    await startWorker()
    const slipped = await bull.add('invalidate', { id: 'x', target: 'everything' }, { attempts: 5 })
    await eventually('the job to fail', async () => (await slipped.getState()) === 'failed')
    const failed = await bull.getJob(slipped.id!)
    expect(failed?.failedReason).toMatch(/^invalid job: .*target: /)
    expect(failed?.attemptsMade).toBe(1)
    expect(flaky.calls).toBe(0)
  })
})

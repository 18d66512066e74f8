import { describe, expect, it } from 'vitest'
import { bookingCatalog } from '../events/booking-events.js'
import { Dispatcher } from '../queues/dispatcher.js'
import { aBookingCreated } from '../test-support/events.js'
import { eventually } from '../test-support/eventually.js'
import { scopedQueues } from '../test-support/scoped-queues.js'
import { useRedis } from '../test-support/use-redis.js'
import { startWorkers } from '../worker/worker-group.js'
import { QueueAdmin } from './queue-admin.js'

describe('operating the queues', () => {
  const env = useRedis()

  /** Bad events land in the failed set: raw jobs that fail validation, as a broken producer would send. */
  const setup = async () => {
    const scoped = scopedQueues(env.redis)
    const options = { redis: env.server.url, prefix: scoped.prefix }
    const admin = new QueueAdmin(options)
    const dispatcher = new Dispatcher({ ...options, catalog: bookingCatalog })
    let healthy = 0
    const group = await startWorkers({
      ...options,
      catalog: bookingCatalog,
      queues: ['booking'],
      events: { 'booking.created': () => void healthy++ },
      log: () => {},
    })
    const failOne = async (tag: string) => {
      const job = await scoped
        .queue('booking')
        .add('booking.created', { ...aBookingCreated(), tenantId: '', tag })
      await eventually(`job ${tag} to fail`, async () => (await job.getState()) === 'failed')
      return job.id!
    }
    const close = async () => {
      await group.close({ timeout: '5s' })
      await Promise.all([admin.close(), dispatcher.close(), scoped.close()])
    }
    return { admin, dispatcher, failOne, healthy: () => healthy, close, queue: scoped.queue }
  }

  describe('dead letters', () => {
    it('lists failed jobs with their reasons', async () => {
      const { admin, failOne, close } = await setup()
      try {
        const id = await failOne('a')
        const [letter, ...rest] = await admin.deadLetters('booking')
        expect(rest).toEqual([])
        expect(letter).toMatchObject({ jobId: id, name: 'booking.created', attemptsMade: 1 })
        expect(letter?.failedReason).toContain('tenantId: ')
        expect(letter?.failedAt).toEqual(expect.any(Number))
      } finally {
        await close()
      }
    })

    it('retries one job, or all, back through the workers', async () => {
      const { admin, failOne, queue, close } = await setup()
      try {
        const [a, b, c] = [await failOne('a'), await failOne('b'), await failOne('c')]
        await admin.retry('booking', a)
        // Still malformed, so it fails again: but it did run again.
        await eventually('a to run twice', async () => (await queue('booking').getJob(a))?.attemptsMade === 2)
        await admin.retryAll('booking')
        await eventually('all three to be retried', async () => {
          const jobs = await Promise.all([a, b, c].map((id) => queue('booking').getJob(id)))
          return jobs.every((job) => job?.finishedOn !== undefined && job.attemptsMade >= 2)
        })
        expect((await queue('booking').getJob(a))?.attemptsMade).toBe(3)
        await expect(admin.retry('booking', 'no-such-job')).rejects.toMatchObject({
          code: 'CSQ_ERR_UNKNOWN_JOB',
        })
      } finally {
        await close()
      }
    })

    it('purges only with the token, only once, and only jobs that had failed when it was issued', async () => {
      const { admin, failOne, close } = await setup()
      try {
        const before = [await failOne('a'), await failOne('b')]
        const request = await admin.requestPurge('booking')
        expect(request.count).toBe(2)
        await expect(admin.purge('booking', 'guessed-token')).rejects.toMatchObject({
          code: 'CSQ_ERR_PURGE_TOKEN',
        })
        // Failed after the request: nobody confirmed deleting it.
        await new Promise((resolve) => setTimeout(resolve, 5))
        const after = await failOne('c')

        expect(await admin.purge('booking', request.token)).toBe(2)
        const left = await admin.deadLetters('booking')
        expect(left.map((letter) => letter.jobId)).toEqual([after])
        expect(before).not.toContain(after)
        await expect(admin.purge('booking', request.token)).rejects.toMatchObject({
          code: 'CSQ_ERR_PURGE_TOKEN',
        })
      } finally {
        await close()
      }
    })
  })

  it('reports counts, processed and failed totals and the lag histogram of a queue', async () => {
    const { admin, dispatcher, failOne, healthy, close } = await setup()
    try {
      const fiveSecondsAgo = new Date(Date.now() - 5_000).toISOString()
      for (let i = 0; i < 3; i++) await dispatcher.dispatch(aBookingCreated({ occurredAt: fiveSecondsAgo }))
      await eventually('three completions', async () => healthy() === 3)
      await failOne('bad')

      // Lag samples reach Redis on the workers' next flush (every second).
      await eventually(
        'lag samples to be flushed',
        async () => (await admin.stats('booking')).lag.count === 3,
      )
      const stats = await admin.stats('booking')
      expect(stats.counts).toMatchObject({ waiting: 0, active: 0, failed: 1, completed: 3 })
      expect(stats.processed.total).toBe(3)
      expect(stats.failed.total).toBe(1)
      expect(stats.processed.perMinute).toEqual(expect.any(Array))
      expect(stats.lag.count).toBe(3)
      // occurredAt was 5 s ago, so every sample sits in the (5 s, 10 s] bucket.
      expect(stats.lag.p50Ms).toBe(10_000)
      expect(stats.lag.p99Ms).toBe(10_000)
    } finally {
      await close()
    }
  })
})

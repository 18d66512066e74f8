import { describe, expect, it } from 'vitest'
import { bookingCatalog } from '../events/booking-events.js'
import { Dispatcher } from '../queues/dispatcher.js'
import { aBookingCreated, aCalendarChanged } from '../test-support/events.js'
import { eventually } from '../test-support/eventually.js'
import { scopedQueues } from '../test-support/scoped-queues.js'
import { useRedis } from '../test-support/use-redis.js'
import type { EventHandlers } from './handlers.js'
import { startWorkers } from './worker-group.js'
import type { WorkerLog } from './worker-log.js'

describe('workers running the handlers', () => {
  const env = useRedis()

  const setup = async (
    events: EventHandlers<typeof bookingCatalog>,
    queues: ('booking' | 'external-sync')[],
  ) => {
    const scoped = scopedQueues(env.redis)
    const logs: Parameters<WorkerLog>[] = []
    const options = { redis: env.server.url, prefix: scoped.prefix, catalog: bookingCatalog }
    const dispatcher = new Dispatcher(options)
    const group = await startWorkers({ ...options, queues, events, log: (...entry) => logs.push(entry) })
    const close = async () => {
      expect(await group.close({ timeout: '5s' })).toEqual({ forced: false })
      await dispatcher.close()
      await scoped.close()
    }
    return { dispatcher, queue: scoped.queue, logs, close }
  }

  it('fails a malformed job straight into the failed set with the reason, without retries', async () => {
    let calls = 0
    const { queue, close } = await setup({ 'booking.created': () => void calls++ }, ['booking'])
    try {
      // Enqueued behind dispatch's back, as an old producer or a hand-written job would.
      const event = aBookingCreated()
      const job = await queue('booking').add(
        'booking.created',
        { ...event, payload: { bookingId: 'b-1' } },
        {
          attempts: 5,
        },
      )
      await eventually('the job to fail', async () => (await job.getState()) === 'failed')
      const failed = await queue('booking').getJob(job.id!)
      expect(failed?.failedReason).toMatch(/booking\.created v2: payload\.staffId: /)
      expect(failed?.attemptsMade).toBe(1)
      expect(calls).toBe(0)
    } finally {
      await close()
    }
  })

  it('retries a transient error with backoff and then succeeds, passing the attempt number', async () => {
    const attempts: number[] = []
    const { dispatcher, queue, logs, close } = await setup(
      {
        'booking.created': (_event, context) => {
          attempts.push(context.attempt)
          if (context.attempt < 3) throw new Error('database restarting')
        },
      },
      ['booking'],
    )
    try {
      const { jobId } = await dispatcher.dispatch(aBookingCreated())
      await eventually(
        'the job to complete',
        async () => (await queue('booking').getJobState(jobId)) === 'completed',
      )
      expect(attempts).toEqual([1, 2, 3])
      expect(logs.filter(([, message]) => message === 'job failed')).toHaveLength(2)
    } finally {
      await close()
    }
  })

  it('runs at most 2 syncs for a burst of 100 calendar.changed on one calendar', async () => {
    let runs = 0
    let running = 0
    let overlapped = false
    let burstSent: () => void = () => {}
    const burstDone = new Promise<void>((resolve) => {
      burstSent = resolve
    })
    const { dispatcher, queue, close } = await setup(
      {
        'calendar.changed': async () => {
          runs++
          overlapped ||= running > 0
          running++
          // The first sync is still running while the whole burst arrives.
          await burstDone
          running--
        },
      },
      ['external-sync'],
    )
    try {
      const first = await dispatcher.dispatch(aCalendarChanged('cal-1'))
      await eventually('the first sync to start', async () => runs === 1)
      const burst = []
      for (let i = 0; i < 99; i++) burst.push(await dispatcher.dispatch(aCalendarChanged('cal-1')))
      burstSent()
      await eventually('the queue to drain', async () => {
        const {
          waiting = 0,
          active = 0,
          delayed = 0,
        } = await queue('external-sync').getJobCounts('waiting', 'active', 'delayed')
        return waiting + active + delayed === 0 && running === 0
      })
      expect(first.deduplicated).toBe(false)
      expect(burst.every((receipt) => receipt.deduplicated)).toBe(true)
      // The running sync absorbed the burst into exactly one follow-up sync, never run in parallel.
      expect(runs).toBe(2)
      expect(overlapped).toBe(false)
    } finally {
      await close()
    }
  })

  it('refuses to start a queue whose handler is missing, or a queue nothing here runs', async () => {
    const options = { redis: env.server.url, catalog: bookingCatalog, log: () => {} }
    await expect(startWorkers({ ...options, queues: ['cancellation'], events: {} })).rejects.toMatchObject({
      code: 'CSQ_ERR_INVALID_HANDLERS',
      message:
        'queue cancellation is selected but nothing here runs it: it needs a "booking.cancelled" handler',
    })
    await expect(startWorkers({ ...options, events: { 'booking.created': () => {} } })).rejects.toMatchObject(
      {
        code: 'CSQ_ERR_INVALID_HANDLERS',
        message: expect.stringContaining('"booking.cancelled" handler'),
      },
    )
    await expect(startWorkers({ ...options, queues: ['cache-invalidation'] })).rejects.toMatchObject({
      code: 'CSQ_ERR_INVALID_HANDLERS',
      message: expect.stringContaining('it needs an invalidator'),
    })
    // @ts-expect-error not a queue of the catalog
    await expect(startWorkers({ ...options, queues: ['bookings'], events: {} })).rejects.toMatchObject({
      code: 'CSQ_ERR_INVALID_OPTIONS',
      message: expect.stringMatching(/^queues\.0: "bookings" is not a queue of this worker/),
    })
  })

  it('reports a forced close when an in-flight job outlives the deadline', async () => {
    let release: () => void = () => {}
    const stuck = new Promise<void>((resolve) => {
      release = resolve
    })
    let started = false
    const scoped = scopedQueues(env.redis)
    const options = { redis: env.server.url, prefix: scoped.prefix, catalog: bookingCatalog }
    const group = await startWorkers({
      ...options,
      queues: ['booking'],
      events: {
        'booking.created': async () => {
          started = true
          await stuck
        },
      },
      log: () => {},
    })
    const dispatcher = new Dispatcher(options)
    try {
      await dispatcher.dispatch(aBookingCreated())
      await eventually('the job to start', async () => started)
      expect(await group.close({ timeout: 100 })).toEqual({ forced: true })
    } finally {
      release()
      await dispatcher.close()
      await scoped.close()
    }
  })
})

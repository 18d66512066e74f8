import { describe, expect, it } from 'vitest'
import { bookingCatalog } from '../events/booking-events.js'
import { aBookingCreated, aCalendarChanged, oneOfEach } from '../test-support/events.js'
import { scopedQueues } from '../test-support/scoped-queues.js'
import { useRedis } from '../test-support/use-redis.js'
import { Dispatcher } from './dispatcher.js'

describe('dispatching domain events', () => {
  const env = useRedis()

  const setup = () => {
    const scoped = scopedQueues(env.redis)
    const dispatcher = new Dispatcher({
      redis: env.server.url,
      prefix: scoped.prefix,
      catalog: bookingCatalog,
    })
    const close = async () => {
      await dispatcher.close()
      await scoped.close()
    }
    return { dispatcher, queue: scoped.queue, close }
  }

  it("routes each event to its definition's queue with its job options", async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const receipts = await Promise.all(oneOfEach().map((event) => dispatcher.dispatch(event)))
      expect(receipts.map((receipt) => receipt.queue)).toEqual([
        'booking',
        'cancellation',
        'reschedule',
        'external-sync',
      ])
      for (const receipt of receipts) {
        const job = await queue(receipt.queue).getJob(receipt.jobId)
        expect(job?.data).toMatchObject({ eventId: receipt.eventId })
        expect(job?.opts).toMatchObject({
          attempts: 6,
          backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
          removeOnComplete: { age: 3_600, count: 10_000 },
        })
      }
    } finally {
      await close()
    }
  })

  it('fills in the latest version when a typed producer leaves it out', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const { version: _, ...unversioned } = aBookingCreated()
      const { jobId } = await dispatcher.dispatch(unversioned)
      expect((await queue('booking').getJob(jobId))?.data).toMatchObject({ version: 2 })
    } finally {
      await close()
    }
  })

  it('lets one dispatch delay its job or give it a priority', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const delayed = await dispatcher.dispatch(aBookingCreated(), { delay: '1m' })
      const [urgent] = await dispatcher.dispatchAll([aBookingCreated()], { priority: 1 })
      expect(await queue('booking').getJobState(delayed.jobId)).toBe('delayed')
      expect((await queue('booking').getJob(delayed.jobId))?.opts.delay).toBe(60_000)
      expect(await queue('booking').getJobState(urgent!.jobId)).toBe('prioritized')
      await expect(dispatcher.dispatch(aBookingCreated(), { delay: 'later' })).rejects.toMatchObject({
        code: 'CSQ_ERR_INVALID_OPTIONS',
        message: expect.stringContaining('options.delay: '),
      })
    } finally {
      await close()
    }
  })

  it('rejects a malformed event at dispatch, naming the field, and enqueues nothing', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const event = aBookingCreated()
      await expect(dispatcher.dispatch({ ...event, tenantId: '' })).rejects.toMatchObject({
        code: 'CSQ_ERR_INVALID_EVENT',
        message: expect.stringMatching(/^booking\.created v2: tenantId: /),
      })
      const batch = [aBookingCreated(), { ...event, occurredAt: 'yesterday' }]
      await expect(dispatcher.dispatchAll(batch)).rejects.toMatchObject({
        code: 'CSQ_ERR_INVALID_EVENT',
        message: expect.stringMatching(/^events\[1\]: booking\.created v2: occurredAt: /),
        details: expect.objectContaining({ index: 1, field: 'occurredAt' }),
      })
      expect(await queue('booking').count()).toBe(0)
    } finally {
      await close()
    }
  })

  it('absorbs a re-sent event into its pending job', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const event = aBookingCreated()
      const first = await dispatcher.dispatch(event)
      const again = await dispatcher.dispatch(event)
      const [inBatch] = await dispatcher.dispatchAll([event])
      expect(first.deduplicated).toBe(false)
      expect(again).toEqual({ ...first, deduplicated: true })
      expect(inBatch).toEqual({ ...first, deduplicated: true })
      expect(await queue('booking').getWaitingCount()).toBe(1)
    } finally {
      await close()
    }
  })

  it('collapses a burst of calendar.changed for one calendar into one pending sync', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const receipts = await dispatcher.dispatchAll(
        Array.from({ length: 50 }, () => aCalendarChanged('cal-A')),
      )
      await dispatcher.dispatch(aCalendarChanged('cal-B'))
      expect(receipts.filter((receipt) => !receipt.deduplicated)).toHaveLength(1)
      expect(await queue('external-sync').getWaitingCount()).toBe(2)
    } finally {
      await close()
    }
  })

  it('refuses options that are not a Redis connection, naming the field', () => {
    expect(() => new Dispatcher({ redis: 'http://localhost:6379', catalog: bookingCatalog })).toThrow(
      expect.objectContaining({
        code: 'CSQ_ERR_INVALID_OPTIONS',
        message: expect.stringMatching(/^redis: /),
      }),
    )
    expect(
      () =>
        new Dispatcher({
          redis: { cluster: [{ host: '127.0.0.1', port: 7000 }] },
          prefix: 'app',
          catalog: bookingCatalog,
        }),
    ).toThrow(/prefix: on a Redis Cluster the prefix needs a hash tag .*"\{app\}"/)
  })
})

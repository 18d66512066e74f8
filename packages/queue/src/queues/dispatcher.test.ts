import { describe, expect, it } from 'vitest'
import { bookingCreated, calendarChanged, oneOfEach } from '../test-support/events.js'
import { scopedQueues } from '../test-support/scoped-queues.js'
import { useRedis } from '../test-support/use-redis.js'
import { Dispatcher } from './dispatcher.js'
import { QUEUE_NAMES } from './routing.js'

describe('dispatching domain events', () => {
  const env = useRedis()

  const setup = () => {
    const scoped = scopedQueues(env.redis)
    const dispatcher = new Dispatcher({ redisUrl: env.server.url, prefix: scoped.prefix })
    const close = async () => {
      await dispatcher.close()
      await scoped.close()
    }
    return { dispatcher, queue: scoped.queue, close }
  }

  it('routes each event type to its queue with retries, backoff and jitter', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const receipts = await Promise.all(oneOfEach().map((event) => dispatcher.dispatch(event)))
      expect(receipts.map((receipt) => receipt.queue)).toEqual([...QUEUE_NAMES])
      for (const receipt of receipts) {
        const job = await queue(receipt.queue).getJob(receipt.jobId)
        expect(job?.data).toMatchObject({ eventId: receipt.eventId })
        expect(job?.opts).toMatchObject({ attempts: 6, backoff: { type: 'exponential', jitter: 0.5 } })
      }
    } finally {
      await close()
    }
  })

  it('rejects a malformed event at dispatch, naming the field, and enqueues nothing', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const event = bookingCreated()
      await expect(dispatcher.dispatch({ ...event, tenantId: '' })).rejects.toMatchObject({
        code: 'CSQ_ERR_INVALID_EVENT',
        message: expect.stringContaining('tenantId: '),
      })
      await expect(
        dispatcher.dispatchAll([bookingCreated(), { ...event, occurredAt: 'yesterday' }]),
      ).rejects.toThrow(/^CSQ_ERR_INVALID_EVENT: events\[1\]: booking\.created v2: occurredAt: /)
      expect(await queue('booking').count()).toBe(0)
    } finally {
      await close()
    }
  })

  it('absorbs a re-sent event into its pending job', async () => {
    const { dispatcher, queue, close } = setup()
    try {
      const event = bookingCreated()
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
        Array.from({ length: 50 }, () => calendarChanged('cal-A')),
      )
      await dispatcher.dispatch(calendarChanged('cal-B'))
      expect(receipts.filter((receipt) => !receipt.deduplicated)).toHaveLength(1)
      expect(await queue('external-sync').getWaitingCount()).toBe(2)
    } finally {
      await close()
    }
  })

  it('refuses options that are not a Redis URL, naming the field', () => {
    expect(() => new Dispatcher({ redisUrl: 'http://localhost:6379' })).toThrow(
      /CSQ_ERR_INVALID_OPTIONS: redisUrl: /,
    )
  })
})

import { EventBus } from '@cachesaga/queue'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BookingRepository } from '../bookings/booking-repository.js'
import { SlotHolds } from '../bookings/slot-holds.js'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { demoIds } from '../seed/seed-demo-data.js'
import { adasBooking, type SagaFixture, startSagaFixture } from '../test-support/saga-fixture.js'
import { createBookingFlows } from './booking-flows.js'

let f: SagaFixture
beforeAll(async () => {
  f = await startSagaFixture('booking_saga')
})
afterAll(() => f?.close())
beforeEach(() => f.proxy.blackhole(false))

const day = '2026-12-07'
const query = { staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment, date: day }
const request = (start: string) => adasBooking(start)
const book = (input: ReturnType<typeof request>) =>
  f.flows.runner.run(f.flows.book, input, { sagaId: `booking:${input.bookingId}` })
const free = async () => (await f.reader.read(query)).availability.slots.map((slot) => slot.startsAt)

describe('the booking saga', () => {
  it('commits, drops the cached day, writes the external calendar through an outage of the calendar server and announces it', async () => {
    expect(await free()).toContain('2026-12-07T08:00:00.000Z')
    // The calendar server stops answering; the step's first attempts time out, then it comes back.
    const input = request('2026-12-07T08:00:00.000Z')
    const done = await f.throughCalendarOutage(() => book(input))
    expect(done.state).toBe('completed')
    expect(Object.keys(done.results)).toEqual([
      'hold',
      'commit',
      'invalidate-after-booking',
      'write-external-calendar',
      'notify',
      'release-hold',
    ])
    expect(done.results['write-external-calendar']).toEqual({ written: true })
    expect(await f.adasEvents()).toMatchObject([
      {
        id: `booking-${input.bookingId}`,
        bookingId: input.bookingId,
        busy: [{ startsAt: new Date(input.start) }],
      },
    ])
    const after = await f.reader.read(query)
    expect(after.tier).toBe('database')
    expect(after.availability.slots.map((slot) => slot.startsAt)).not.toContain('2026-12-07T08:00:00.000Z')
    // One event id for the fact: the outbox row and the announcement carry the same one.
    const { rows } = await f.db.pool.query(
      `SELECT event FROM cachesaga.outbox WHERE event ->> 'type' = 'booking.created'`,
    )
    const stored = rows.find((row) => row.event.payload.bookingId === input.bookingId)?.event
    expect(f.announced.find((event) => event.payload.bookingId === input.bookingId)?.eventId).toBe(
      stored.eventId,
    )
  })

  it('compensates a booking of a taken time: the hold is let go and nothing is announced', async () => {
    const taken = request('2026-12-07T08:00:00.000Z')
    const outcome = await book(taken)
    expect(outcome.state).toBe('compensated')
    expect(outcome.error).toMatchObject({
      code: 'SAGA_ERR_DOMAIN_REJECTION',
      step: 'commit',
      domainCode: 'BOOKING_ERR_SLOT_TAKEN',
    })
    expect(f.announced.map((event) => event.payload.bookingId)).not.toContain(taken.bookingId)
    // Its hold is gone: a booking of the next hour is not turned away by a leftover.
    expect((await book(request('2026-12-07T09:00:00.000Z'))).state).toBe('completed')
  })

  it('parks after the pivot with a coded error when the calendar server stays down: the booking stands', async () => {
    await f.radicale.kill()
    const input = request('2026-12-07T12:00:00.000Z')
    let outcome: Awaited<ReturnType<typeof book>>
    try {
      const sentBefore = f.calendar.requestsSent
      outcome = await book(input)
      expect(outcome).toMatchObject({
        state: 'parked',
        parkedStep: 'write-external-calendar',
        error: { code: 'BOOKING_ERR_CALENDAR_UNAVAILABLE' },
      })
      // The step's retry policy: five attempts, each one PUT.
      expect(f.calendar.requestsSent - sentBefore).toBe(5)
      const { rows } = await f.db.pool.query('SELECT status FROM bookings WHERE id = $1', [input.bookingId])
      expect(rows).toEqual([{ status: 'confirmed' }])
    } finally {
      await f.radicale.restart()
    }
    const retried = await f.flows.runner.operator.retry(outcome.sagaId, { actor: 'test' })
    expect(retried.state).toBe('completed')
    expect((await f.adasEvents()).map((event) => event.id)).toContain(`booking-${input.bookingId}`)
  })

  it('parks at once, without retrying, when the calendar server refuses the write', async () => {
    // A calendar home the server refuses to write into (Radicale answers 403 that deep).
    const nowhere = new CalDavCalendarProvider({
      url: `http://demo:x@127.0.0.1:${f.proxy.port}/demo/missing/`,
    })
    const redis = new Redis(f.redis.url)
    const refusing = createBookingFlows({
      cache: f.cache,
      pool: f.db.pool,
      bookings: new BookingRepository(f.db.pool),
      holds: new SlotHolds(redis, 30_000),
      calendar: nowhere,
      bus: new EventBus(),
    })
    try {
      const input = request('2026-12-07T13:00:00.000Z')
      const outcome = await refusing.runner.run(refusing.book, input, {
        sagaId: `booking:${input.bookingId}`,
      })
      expect(outcome).toMatchObject({
        state: 'parked',
        parkedStep: 'write-external-calendar',
        error: { code: 'SAGA_ERR_DOMAIN_REJECTION', domainCode: 'BOOKING_ERR_CALENDAR_REFUSED' },
      })
      expect(nowhere.requestsSent).toBe(1)
    } finally {
      await refusing.close()
      redis.disconnect()
    }
  })
})

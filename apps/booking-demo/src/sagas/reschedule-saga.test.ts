import { randomUUID } from 'node:crypto'
import { eventually } from '@cachesaga/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { demoIds } from '../seed/seed-demo-data.js'
import { crashSagaAt } from '../test-support/crash-saga.js'
import { type SagaFixture, startSagaFixture } from '../test-support/saga-fixture.js'

let f: SagaFixture
beforeAll(async () => {
  f = await startSagaFixture('reschedule_saga')
})
afterAll(() => f?.close())
beforeEach(() => f.proxy.blackhole(false))

const reschedule = (bookingId: string, start: string) =>
  f.flows.runner.run(
    f.flows.reschedule,
    { tenantId: demoIds.tenant, bookingId, start },
    { sagaId: `reschedule:${bookingId}:${randomUUID()}` },
  )

const calendarEvent = async (bookingId: string) =>
  (await f.adasEvents()).find((event) => event.id === `booking-${bookingId}`)

describe('the reschedule saga', () => {
  it('moves a booking to another day, invalidates both days, moves the calendar event through an outage, and announces it', async () => {
    // Monday to Tuesday: both days are cached before the move.
    const bookingId = await f.book('2026-12-21T08:00:00.000Z')
    expect(await f.free('2026-12-21')).not.toContain('2026-12-21T08:00:00.000Z')
    expect(await f.free('2026-12-22')).toContain('2026-12-22T13:00:00.000Z')
    const done = await f.throughCalendarOutage(() => reschedule(bookingId, '2026-12-22T13:00:00.000Z'))
    expect(done.state).toBe('completed')
    expect(Object.keys(done.results)).toEqual([
      'read-booking',
      'hold',
      'move',
      'invalidate-after-reschedule',
      'move-external-calendar-event',
      'notify',
      'release-hold',
    ])
    expect(await f.free('2026-12-21')).toContain('2026-12-21T08:00:00.000Z')
    expect(await f.free('2026-12-22')).not.toContain('2026-12-22T13:00:00.000Z')
    expect((await calendarEvent(bookingId))?.busy).toEqual([
      { startsAt: new Date('2026-12-22T13:00:00.000Z'), endsAt: new Date('2026-12-22T14:00:00.000Z') },
    ])
    expect(f.announced.filter((event) => event.payload.bookingId === bookingId).at(-1)).toMatchObject({
      type: 'booking.rescheduled',
      payload: {
        from: { start: '2026-12-21T08:00:00.000Z', end: '2026-12-21T09:00:00.000Z' },
        to: { start: '2026-12-22T13:00:00.000Z', end: '2026-12-22T14:00:00.000Z' },
      },
    })
  })

  it('compensates a move onto a taken time: the hold is let go and the booking stays where it was', async () => {
    const bookingId = await f.book('2026-12-21T09:00:00.000Z')
    await f.book('2026-12-21T12:00:00.000Z', 'sam@example.com')
    const outcome = await reschedule(bookingId, '2026-12-21T12:00:00.000Z')
    expect(outcome).toMatchObject({
      state: 'compensated',
      error: { code: 'SAGA_ERR_DOMAIN_REJECTION', step: 'move', domainCode: 'BOOKING_ERR_SLOT_TAKEN' },
    })
    const { rows } = await f.db.pool.query('SELECT starts_at FROM bookings WHERE id = $1', [bookingId])
    expect(rows[0].starts_at.toISOString()).toBe('2026-12-21T09:00:00.000Z')
    // The hold on 13:00 from a refused move does not turn a later move there away.
    const refusedHere = await reschedule(bookingId, '2026-12-21T13:00:00.000Z')
    expect(refusedHere.state).toBe('completed')
  })

  it('is resumed by another runner after the one running it is SIGKILLed in the calendar step', async () => {
    const bookingId = await f.book('2026-12-28T08:00:00.000Z')
    const sagaId = `reschedule:${bookingId}:${randomUUID()}`
    await crashSagaAt(
      'move-external-calendar-event',
      {
        name: 'reschedule',
        sagaId,
        input: { tenantId: demoIds.tenant, bookingId, start: '2026-12-29T14:00:00.000Z' },
      },
      f.childEnv,
    )
    const { rows } = await f.db.pool.query('SELECT starts_at FROM bookings WHERE id = $1', [bookingId])
    expect(rows[0].starts_at.toISOString()).toBe('2026-12-29T14:00:00.000Z')
    expect((await calendarEvent(bookingId))?.busy[0]?.startsAt).toEqual(new Date('2026-12-28T08:00:00.000Z'))
    const resumed = await eventually(
      'the saga resumed',
      async () => (await f.flows.runner.recover()).find((outcome) => outcome.sagaId === sagaId),
      { timeoutMs: 15_000 },
    )
    expect(resumed).toMatchObject({ state: 'completed' })
    // The resumed run used the slot the first run recorded: the calendar moved, and both days are right.
    expect((await calendarEvent(bookingId))?.busy[0]?.startsAt).toEqual(new Date('2026-12-29T14:00:00.000Z'))
    expect(await f.free('2026-12-28')).toContain('2026-12-28T08:00:00.000Z')
    expect(await f.free('2026-12-29')).not.toContain('2026-12-29T14:00:00.000Z')
  }, 60_000)
})

import { randomUUID } from 'node:crypto'
import { eventually } from '@cachesaga/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { demoIds } from '../seed/seed-demo-data.js'
import { crashSagaAt } from '../test-support/crash-saga.js'
import { type SagaFixture, startSagaFixture } from '../test-support/saga-fixture.js'

let f: SagaFixture
beforeAll(async () => {
  f = await startSagaFixture('cancel_saga')
})
afterAll(() => f?.close())
beforeEach(() => f.proxy.blackhole(false))

const cancel = (bookingId: string) =>
  f.flows.runner.run(
    f.flows.cancel,
    { tenantId: demoIds.tenant, bookingId },
    { sagaId: `cancel:${bookingId}` },
  )

const calendarIds = async () => (await f.adasEvents()).map((event) => event.id)

describe('the cancellation saga', () => {
  it('cancels, frees the cached day, deletes the calendar event through an outage of the calendar server, and announces it', async () => {
    const bookingId = await f.book('2026-12-14T08:00:00.000Z')
    // The day is in the cache, without the slot, before the cancellation.
    expect(await f.free('2026-12-14')).not.toContain('2026-12-14T08:00:00.000Z')
    const done = await f.throughCalendarOutage(() => cancel(bookingId))
    expect(done.state).toBe('completed')
    expect(Object.keys(done.results)).toEqual([
      'cancel',
      'invalidate-after-cancellation',
      'delete-external-calendar-event',
      'notify',
    ])
    expect(done.results['delete-external-calendar-event']).toEqual({ deleted: true })
    expect(await calendarIds()).not.toContain(`booking-${bookingId}`)
    expect(await f.free('2026-12-14')).toContain('2026-12-14T08:00:00.000Z')
    expect(
      f.announced.filter((event) => event.payload.bookingId === bookingId).map((event) => event.type),
    ).toEqual(['booking.created', 'booking.cancelled'])
  })

  it('answers a second cancellation of the same booking with the first one recorded', async () => {
    const bookingId = await f.book('2026-12-14T09:00:00.000Z')
    const first = await cancel(bookingId)
    const again = await cancel(bookingId)
    expect(again).toMatchObject({ state: 'completed', sagaId: first.sagaId })
    const { rows } = await f.db.pool.query(
      `SELECT count(*)::int AS n FROM cachesaga.outbox WHERE event ->> 'type' = 'booking.cancelled' AND event -> 'payload' ->> 'bookingId' = $1`,
      [bookingId],
    )
    expect(rows[0].n).toBe(1)
  })

  it('compensates, changing nothing, when there is no such booking', async () => {
    const outcome = await cancel(randomUUID())
    expect(outcome).toMatchObject({
      state: 'compensated',
      error: { code: 'SAGA_ERR_DOMAIN_REJECTION', step: 'cancel', domainCode: 'BOOKING_ERR_NOT_FOUND' },
    })
  })

  it('is resumed by another runner after the one running it is SIGKILLed in the calendar step', async () => {
    const bookingId = await f.book('2026-12-14T10:00:00.000Z')
    // The day is in the cache, without the slot, before the cancellation.
    expect(await f.free('2026-12-14')).not.toContain('2026-12-14T10:00:00.000Z')
    const sagaId = `cancel:${bookingId}`
    await crashSagaAt(
      'delete-external-calendar-event',
      { name: 'cancel', sagaId, input: { tenantId: demoIds.tenant, bookingId } },
      f.childEnv,
    )
    // The pivot committed before the crash; the calendar still holds the event.
    const { rows } = await f.db.pool.query('SELECT status FROM bookings WHERE id = $1', [bookingId])
    expect(rows).toEqual([{ status: 'cancelled' }])
    expect(await calendarIds()).toContain(`booking-${bookingId}`)
    // Once the dead runner's lease (1 s) runs out, a recovery sweep takes the saga over and finishes it.
    const resumed = await eventually(
      'the saga resumed',
      async () => (await f.flows.runner.recover()).find((outcome) => outcome.sagaId === sagaId),
      { timeoutMs: 15_000 },
    )
    expect(resumed).toMatchObject({ state: 'completed' })
    expect(await calendarIds()).not.toContain(`booking-${bookingId}`)
    expect(await f.free('2026-12-14')).toContain('2026-12-14T10:00:00.000Z')
  }, 60_000)
})

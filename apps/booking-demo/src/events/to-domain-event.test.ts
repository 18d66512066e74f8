import { bookingCatalog } from '@cachesaga/queue'
import { describe, expect, it } from 'vitest'
import type { BookingEvent } from '../bookings/booking-events.js'
import { outboxToDomainEvent } from './to-domain-event.js'

const booked = {
  tenantId: 'tenant-1',
  bookingId: 'booking-1',
  staffId: 'ada',
  serviceId: 'treatment',
  startsAt: '2026-12-07T08:00:00.000Z',
  endsAt: '2026-12-07T09:00:00.000Z',
}
const message = (event: BookingEvent, outboxId = '42') => ({
  outboxId,
  occurredAt: new Date('2026-12-01T10:00:00Z'),
  event,
})

describe('outbox rows as queue events', () => {
  it('become valid queue events of the current versions', () => {
    const confirmed = outboxToDomainEvent(message({ type: 'booking.confirmed', ...booked }))
    expect(bookingCatalog.parse(confirmed)).toMatchObject({
      type: 'booking.created',
      version: 2,
      payload: { slot: { start: booked.startsAt, end: booked.endsAt } },
    })
    const moved = outboxToDomainEvent(
      message({
        type: 'booking.rescheduled',
        ...booked,
        previous: { startsAt: '2026-12-07T06:00:00.000Z', endsAt: '2026-12-07T07:00:00.000Z' },
      }),
    )
    expect(bookingCatalog.parse(moved)).toMatchObject({
      type: 'booking.rescheduled',
      payload: { from: { start: '2026-12-07T06:00:00.000Z' }, to: { start: booked.startsAt } },
    })
    expect(
      bookingCatalog.parse(outboxToDomainEvent(message({ type: 'booking.cancelled', ...booked }))),
    ).toMatchObject({
      type: 'booking.cancelled',
    })
  })

  it('keep their event id when relayed again, so the queue absorbs the duplicate', () => {
    const event: BookingEvent = { type: 'booking.confirmed', ...booked }
    const once = outboxToDomainEvent(message(event, '42'))
    expect(outboxToDomainEvent(message(event, '42')).eventId).toBe(once.eventId)
    expect(outboxToDomainEvent(message(event, '43')).eventId).not.toBe(once.eventId)
  })
})

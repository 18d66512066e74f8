import { randomUUID } from 'node:crypto'
import type { bookingCatalog, DomainEvent } from '@cachesaga/queue'

type Booking<T extends DomainEvent<typeof bookingCatalog>['type']> = DomainEvent<typeof bookingCatalog, T>

/** A new booking of `staffId`, as an application dispatches it: a fresh event and booking id every call. */
export function aBookingCreated(staffId: string): Booking<'booking.created'> {
  return {
    type: 'booking.created',
    version: 2,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: 'clinic',
    payload: {
      bookingId: `bk-${randomUUID().slice(0, 8)}`,
      staffId,
      serviceId: 'checkup',
      slot: { start: '2026-11-23T09:00:00.000Z', end: '2026-11-23T09:30:00.000Z' },
    },
  }
}

/** The cancellation of a booking like `aBookingCreated(staffId)`'s. */
export function aBookingCancelled(staffId: string): Booking<'booking.cancelled'> {
  const { payload, ...envelope } = aBookingCreated(staffId)
  return { ...envelope, type: 'booking.cancelled', payload: { ...payload, reason: 'ill' } }
}

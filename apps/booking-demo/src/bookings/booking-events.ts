import { createHash } from 'node:crypto'
import type { bookingCatalog, DomainEvent, Slot } from '@cachesaga/queue'
import type { Booking } from './booking-repository.js'

/** The queue's booking events, the one shape and name of each booking fact in the demo. */
export type BookingEvent = DomainEvent<
  typeof bookingCatalog,
  'booking.created' | 'booking.cancelled' | 'booking.rescheduled'
>

/**
 * The event id of one fact: a name-based UUID of what decided it (the saga step's idempotency key), so a retried
 * step, the outbox row, the queue job and the in-process announcement all carry the same id.
 */
export function eventIdOf(name: string): string {
  const bytes = createHash('sha1').update(`booking-demo:${name}`).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function envelope(booking: Booking, eventId: string) {
  return { eventId, occurredAt: booking.updatedAt, tenantId: booking.tenantId }
}

function identity(booking: Booking) {
  return { bookingId: booking.id, staffId: booking.staffId, serviceId: booking.serviceId }
}

export function bookingCreated(booking: Booking, eventId: string): BookingEvent {
  return {
    type: 'booking.created',
    version: 2,
    ...envelope(booking, eventId),
    payload: { ...identity(booking), slot: booking.slot },
  }
}

export function bookingCancelled(booking: Booking, eventId: string): BookingEvent {
  return {
    type: 'booking.cancelled',
    version: 2,
    ...envelope(booking, eventId),
    payload: { ...identity(booking), slot: booking.slot },
  }
}

export function bookingRescheduled(booking: Booking, from: Slot, eventId: string): BookingEvent {
  return {
    type: 'booking.rescheduled',
    version: 3,
    ...envelope(booking, eventId),
    payload: { ...identity(booking), from, to: booking.slot },
  }
}

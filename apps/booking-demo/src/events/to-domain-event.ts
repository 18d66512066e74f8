import { createHash } from 'node:crypto'
import type { bookingCatalog, DomainEvent } from '@cachesaga/queue'
import type { BookingEvent } from '../bookings/booking-events.js'
import type { OutboxMessage } from '../outbox/outbox-relay.js'

/**
 * The queue's event for a booking event: `booking.confirmed` is the queue's `booking.created`, and the
 * queue names times `slot`, `from` and `to`.
 */
export function toDomainEvent(
  event: BookingEvent,
  eventId: string,
  occurredAt: Date,
): DomainEvent<typeof bookingCatalog> {
  const envelope = { eventId, occurredAt: occurredAt.toISOString(), tenantId: event.tenantId }
  const slot = { start: event.startsAt, end: event.endsAt }
  switch (event.type) {
    case 'booking.confirmed':
      return {
        type: 'booking.created',
        version: 2,
        ...envelope,
        payload: { bookingId: event.bookingId, staffId: event.staffId, serviceId: event.serviceId, slot },
      }
    case 'booking.cancelled':
      return {
        type: 'booking.cancelled',
        version: 2,
        ...envelope,
        payload: { bookingId: event.bookingId, staffId: event.staffId, serviceId: event.serviceId, slot },
      }
    case 'booking.rescheduled':
      return {
        type: 'booking.rescheduled',
        version: 3,
        ...envelope,
        payload: {
          bookingId: event.bookingId,
          staffId: event.staffId,
          serviceId: event.serviceId,
          from: { start: event.previous.startsAt, end: event.previous.endsAt },
          to: slot,
        },
      }
  }
}

/**
 * An outbox row as a queue event. The event id is derived from the row id (a name-based UUID), so a row
 * relayed twice after a crash is the same event and the queue's deduplication absorbs it.
 */
export function outboxToDomainEvent(message: OutboxMessage): DomainEvent<typeof bookingCatalog> {
  return toDomainEvent(
    message.event,
    nameBasedUuid(`booking-demo-outbox:${message.outboxId}`),
    message.occurredAt,
  )
}

/** A version-5-style UUID from a SHA-1 of `name`: the same name always gives the same id. */
function nameBasedUuid(name: string): string {
  const bytes = createHash('sha1').update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The time a booking occupies, as ISO-8601 instants (events travel as JSON). */
export interface BookedTime {
  startsAt: string
  endsAt: string
}

interface BookingEventBase extends BookedTime {
  tenantId: string
  bookingId: string
  staffId: string
  serviceId: string
}

/** Domain events about bookings; each is written to the outbox in the transaction that made it true. */
export type BookingEvent =
  | (BookingEventBase & { type: 'booking.confirmed' })
  | (BookingEventBase & { type: 'booking.cancelled' })
  | (BookingEventBase & { type: 'booking.rescheduled'; previous: BookedTime })

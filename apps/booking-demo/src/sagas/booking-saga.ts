import { DomainRejection, defineSaga, invalidateAfterBooking } from '@cachesaga/saga'
import type pg from 'pg'
import { z } from 'zod'
import { bookingCreated } from '../bookings/booking-events.js'
import { bookedSlot } from '../cache/availability-mapping.js'
import {
  type BookingSagaDeps,
  CALENDAR_RETRY,
  calendarEventId,
  commitWithEvent,
  refuseWithoutRetry,
} from './saga-steps.js'

const bookingRequestSchema = z.object({
  bookingId: z.uuid(),
  tenantId: z.uuid(),
  staffId: z.uuid(),
  serviceId: z.uuid(),
  customerEmail: z.email(),
  start: z.iso.datetime({ offset: true }),
  /** SHA-256 (hex) of the management token the caller was given; the token itself never reaches the saga. */
  managementTokenHash: z.string().regex(/^[0-9a-f]{64}$/),
})

/**
 * Books an appointment: hold the time, commit the booking with its `booking.created` event (the pivot: the
 * database's exclusion constraint decides; in the saga store's transaction, so the step's completion commits with
 * them), invalidate the local days it touches, write it to the staff
 * member's external calendar (retried), announce it, and let go of the hold. A refusal before or at the
 * pivot compensates: the hold is released.
 */
export function createBookingSaga(deps: BookingSagaDeps) {
  return (
    defineSaga('book-appointment', { input: bookingRequestSchema })
      .step('hold', {
        run: async ({ input, sagaId }) => {
          if (!(await deps.holds.take(input.staffId, input.start, sagaId))) {
            throw new DomainRejection(
              'BOOKING_ERR_SLOT_TAKEN',
              `${input.start} is being booked by someone else`,
              { staffId: input.staffId, start: input.start },
            )
          }
          return { heldBy: sagaId }
        },
        compensate: ({ input, sagaId }) => deps.holds.release(input.staffId, input.start, sagaId),
      })
      .step('commit', {
        kind: 'pivot',
        // The booking, its outbox event and the record that this step completed commit together, or none does.
        transaction: true,
        run: ({ input, idempotencyKey, transaction }) => {
          const client = transaction as pg.PoolClient
          return commitWithEvent(
            client,
            idempotencyKey,
            (eventId) => deps.bookings.confirm(client, { ...input, eventId }),
            bookingCreated,
          )
        },
      })
      // Before the calendar write: the availability this instance serves is right from here on.
      .step(invalidateAfterBooking(({ results }) => bookedSlot(results.commit.booking)))
      .step('write-external-calendar', {
        retry: CALENDAR_RETRY,
        run: async ({ input, results }) => {
          const { calendarId, booking } = results.commit
          if (calendarId === null) return { written: false }
          await refuseWithoutRetry(() =>
            deps.calendar.putEvent(calendarId, {
              id: calendarEventId(input.bookingId),
              bookingId: input.bookingId,
              startsAt: new Date(booking.slot.start),
              endsAt: new Date(booking.slot.end),
            }),
          )
          return { written: true }
        },
      })
      .step('notify', {
        run: async ({ input, results }) => {
          await deps.bus.publish(results.commit.event)
          return { notified: input.customerEmail }
        },
      })
      .step('release-hold', {
        run: async ({ input, sagaId }) => {
          await deps.holds.release(input.staffId, input.start, sagaId)
          return { released: true }
        },
      })
  )
}

export type BookingSaga = ReturnType<typeof createBookingSaga>

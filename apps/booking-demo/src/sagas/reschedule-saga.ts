import { DomainRejection, defineSaga, invalidateAfterReschedule } from '@cachesaga/saga'
import type pg from 'pg'
import { z } from 'zod'
import { bookingRescheduled, eventIdOf } from '../bookings/booking-events.js'
import { bookedSlot } from '../cache/availability-mapping.js'
import { loadStaffProfile } from '../staff/load-staff-profile.js'
import {
  type BookingSagaDeps,
  CALENDAR_RETRY,
  calendarEventId,
  refuseAsDomain,
  refuseWithoutRetry,
} from './saga-steps.js'

const rescheduleSchema = z.object({
  tenantId: z.uuid(),
  bookingId: z.uuid(),
  start: z.iso.datetime({ offset: true }),
})

/**
 * Moves a booking: read where it is (recorded, so every later step and a resumed run agree on the old slot),
 * hold the new time, move it with its `booking.rescheduled` event (the pivot: a compare and set on the old
 * slot, then the exclusion constraint; in the saga store's transaction, with the step's completion), invalidate
 * the old and the new local days, move the event in the external calendar (retried), announce it, and let go of
 * the hold. A refusal at the pivot (taken, not
 * offered, moved or cancelled meanwhile) compensates: the hold is released and the booking stays where it was.
 */
export function createRescheduleSaga(deps: BookingSagaDeps) {
  return defineSaga('reschedule-booking', { input: rescheduleSchema })
    .step('read-booking', {
      run: async ({ input }) => {
        const booking = await refuseAsDomain(() => deps.bookings.find(input.tenantId, input.bookingId))
        if (booking.status !== 'confirmed') {
          throw new DomainRejection(
            'BOOKING_ERR_NOT_FOUND',
            `no confirmed booking ${input.bookingId} to move`,
            {
              bookingId: input.bookingId,
            },
          )
        }
        const { calendarId } = await loadStaffProfile(deps.pool, booking.staffId)
        return { booking, calendarId }
      },
    })
    .step('hold', {
      run: async ({ input, results, sagaId }) => {
        const { staffId } = results['read-booking'].booking
        if (!(await deps.holds.take(staffId, input.start, sagaId))) {
          throw new DomainRejection(
            'BOOKING_ERR_SLOT_TAKEN',
            `${input.start} is being booked by someone else`,
            {
              staffId,
              start: input.start,
            },
          )
        }
        return { heldBy: sagaId }
      },
      compensate: ({ input, results, sagaId }) =>
        deps.holds.release(results['read-booking'].booking.staffId, input.start, sagaId),
    })
    .step('move', {
      kind: 'pivot',
      // The move, its outbox event and the record that this step completed commit together.
      transaction: true,
      run: async ({ input, results, idempotencyKey, transaction }) => {
        const from = results['read-booking'].booking.slot
        const eventId = eventIdOf(idempotencyKey)
        const { booking, event } = await refuseAsDomain(() =>
          deps.bookings.reschedule(transaction as pg.PoolClient, { ...input, from, eventId }),
        )
        return { booking, event: event ?? bookingRescheduled(booking, from, eventId) }
      },
    })
    .step(
      invalidateAfterReschedule(({ results }) => ({
        from: bookedSlot(results['read-booking'].booking),
        to: bookedSlot(results.move.booking),
      })),
    )
    .step('move-external-calendar-event', {
      retry: CALENDAR_RETRY,
      run: async ({ input, results }) => {
        const { calendarId } = results['read-booking']
        if (calendarId === null) return { written: false }
        const { slot } = results.move.booking
        await refuseWithoutRetry(() =>
          deps.calendar.putEvent(calendarId, {
            id: calendarEventId(input.bookingId),
            bookingId: input.bookingId,
            startsAt: new Date(slot.start),
            endsAt: new Date(slot.end),
          }),
        )
        return { written: true }
      },
    })
    .step('notify', {
      run: async ({ results }) => {
        await deps.bus.publish(results.move.event)
        return { notified: results.move.booking.customerEmail }
      },
    })
    .step('release-hold', {
      run: async ({ input, results, sagaId }) => {
        await deps.holds.release(results['read-booking'].booking.staffId, input.start, sagaId)
        return { released: true }
      },
    })
}

export type RescheduleSaga = ReturnType<typeof createRescheduleSaga>

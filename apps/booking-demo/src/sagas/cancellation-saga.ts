import { defineSaga, invalidateAfterCancellation } from '@cachesaga/saga'
import type pg from 'pg'
import { z } from 'zod'
import { bookingCancelled } from '../bookings/booking-events.js'
import { bookedSlot } from '../cache/availability-mapping.js'
import {
  type BookingSagaDeps,
  CALENDAR_RETRY,
  calendarEventId,
  commitWithEvent,
  refuseWithoutRetry,
} from './saga-steps.js'

const cancellationSchema = z.object({ tenantId: z.uuid(), bookingId: z.uuid() })

/**
 * Cancels a booking: the cancellation commits with its `booking.cancelled` event and the step's completion (the
 * pivot, in the saga store's transaction; an unknown booking is refused there and the saga compensates, with
 * nothing before it to undo), then the freed local days are invalidated, the event is deleted from the staff
 * member's external calendar (retried, then parked with the cancellation standing), and the cancellation is
 * announced. Run under `cancel:<bookingId>`: a second request for the same booking gets the first one's outcome.
 */
export function createCancellationSaga(deps: BookingSagaDeps) {
  return defineSaga('cancel-booking', { input: cancellationSchema })
    .step('cancel', {
      kind: 'pivot',
      // The cancellation, its outbox event and the record that this step completed commit together.
      transaction: true,
      run: ({ input, idempotencyKey, transaction }) => {
        const client = transaction as pg.PoolClient
        return commitWithEvent(
          client,
          idempotencyKey,
          (eventId) => deps.bookings.cancel(client, input.tenantId, input.bookingId, eventId),
          bookingCancelled,
        )
      },
    })
    .step(invalidateAfterCancellation(({ results }) => bookedSlot(results.cancel.booking)))
    .step('delete-external-calendar-event', {
      retry: CALENDAR_RETRY,
      run: async ({ input, results }) => {
        const { calendarId } = results.cancel
        if (calendarId === null) return { deleted: false }
        await refuseWithoutRetry(() =>
          deps.calendar.deleteEvent(calendarId, calendarEventId(input.bookingId)),
        )
        return { deleted: true }
      },
    })
    .step('notify', {
      run: async ({ results }) => {
        await deps.bus.publish(results.cancel.event)
        return { notified: results.cancel.booking.customerEmail }
      },
    })
}

export type CancellationSaga = ReturnType<typeof createCancellationSaga>

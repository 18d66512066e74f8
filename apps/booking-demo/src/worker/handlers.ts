import { errorCode } from '@cachesaga/common'
import { bookingCatalog, defineHandlers, type HandlerContext } from '@cachesaga/queue'
import { UnrecoverableError } from 'bullmq'
import pg from 'pg'
import type { BookingEvent } from '../bookings/booking-events.js'
import { createAvailabilityCache } from '../cache/availability-cache.js'
import { calendarProviderFromEnv } from '../calendar/caldav/caldav-env.js'
import { syncCalendar } from '../calendar/sync-calendar.js'
import { readStoresEnv } from '../processes/process-env.js'
import { traceToFiles } from '../tracing/trace-to-files.js'

/**
 * The handlers `cachesaga-worker --handlers` loads. `calendar.changed` runs the external sync and invalidates
 * the days whose busy time changed. Booking events need no invalidation here: their saga invalidated the days
 * (and a saga whose runner died is resumed by another runner), and the change capture of `bookings` covers
 * any other writer. A real system would email its customers from them; the demo has no mail server and prints
 * the notification instead, with the event id (a redelivery prints it again: delivery is at least once).
 */
traceToFiles('worker')
const env = readStoresEnv(process.env)
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 8 })
pool.on('error', () => {})
const cache = await createAvailabilityCache(env.redis)
const calendar = calendarProviderFromEnv(process.env)

function announce(event: BookingEvent, { idempotencyKey }: HandlerContext): void {
  process.stdout.write(
    `${JSON.stringify({ notified: event.type, bookingId: event.payload.bookingId, eventId: idempotencyKey })}\n`,
  )
}

export default defineHandlers({
  catalog: bookingCatalog,
  events: {
    'booking.created': announce,
    'booking.cancelled': announce,
    'booking.rescheduled': announce,
    'calendar.changed': async (event) => {
      const result = await syncCalendar(pool, calendar, event.payload.calendarId).catch((error: unknown) => {
        // Unavailability is retried with the queue's backoff and then dead-lettered; a refusal (credentials,
        // no such calendar) would be refused again, so it goes to the dead letters at once.
        if (errorCode(error) !== 'BOOKING_ERR_CALENDAR_REFUSED') throw error
        throw Object.assign(new UnrecoverableError((error as Error).message), { cause: error })
      })
      if (result.status !== 'applied') return
      if (result.unreadable.length > 0) {
        // Someone else's malformed events do not stop the sync; a person should know which were skipped.
        console.warn(
          JSON.stringify({
            level: 'warn',
            msg: 'calendar objects skipped: their iCalendar data did not parse',
            calendarId: event.payload.calendarId,
            objects: result.unreadable,
          }),
        )
      }
      // After the commit: a reader that refills from here on sees the new busy blocks.
      if (result.invalidate !== null) await cache.invalidate(result.invalidate)
    },
  },
})

import { errorCode } from '@cachesaga/common'
import { bookingCatalog, defineHandlers } from '@cachesaga/queue'
import { UnrecoverableError } from 'bullmq'
import pg from 'pg'
import { targetForBookedTimes } from '../cache/availability-targets.js'
import { createAvailabilityCache } from '../cache/create-availability-cache.js'
import { calendarProviderFromEnv } from '../calendar/caldav/caldav-env.js'
import { syncCalendar } from '../calendar/sync-calendar.js'
import { readStoresEnv } from '../processes/process-env.js'
import { loadStaffProfile } from '../staff/load-staff-profile.js'

/**
 * The handlers `cachesaga-worker --handlers` loads. Booking events repeat the invalidation the API made
 * (the backstop for an API that died between commit and invalidate: the event is in the outbox either
 * way); `calendar.changed` runs the external sync. Invalidation is idempotent and `syncCalendar` applies
 * each change once, so redelivery is safe, which is the queue's at-least-once contract.
 */
const env = readStoresEnv(process.env)
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 8 })
pool.on('error', () => {})
const cache = await createAvailabilityCache(env.REDIS_URL)
const calendar = calendarProviderFromEnv(process.env)

async function invalidateBookedTimes(staffId: string, slots: { start: string; end: string }[]) {
  const { timeZone } = await loadStaffProfile(pool, staffId)
  const times = slots.map((slot) => ({ startsAt: slot.start, endsAt: slot.end }))
  await cache.invalidate(targetForBookedTimes(staffId, timeZone, times))
}

export default defineHandlers({
  catalog: bookingCatalog,
  events: {
    'booking.created': (event) => invalidateBookedTimes(event.payload.staffId, [event.payload.slot]),
    'booking.cancelled': (event) => invalidateBookedTimes(event.payload.staffId, [event.payload.slot]),
    'booking.rescheduled': (event) =>
      invalidateBookedTimes(event.payload.staffId, [event.payload.from, event.payload.to]),
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

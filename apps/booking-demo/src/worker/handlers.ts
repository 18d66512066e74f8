import { bookingCatalog, defineHandlers } from '@cachesaga/queue'
import pg from 'pg'
import { targetForBookedTimes, targetForStaffEdit } from '../cache/availability-targets.js'
import { createAvailabilityCache } from '../cache/create-availability-cache.js'
import { SimulatedCalendarProvider } from '../calendar/simulated-calendar-provider.js'
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
const calendar = new SimulatedCalendarProvider(pool)

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
      // A provider outage throws CalendarUnavailableError: the job is retried with the queue's backoff.
      const result = await syncCalendar(pool, calendar, event.payload.calendarId)
      await cache.invalidate(targetForStaffEdit(event.tenantId, result.staffId))
    },
  },
})

import { EventBus } from '@cachesaga/queue'
import { Redis } from 'ioredis'
import pg from 'pg'
import { BookingRepository } from '../bookings/booking-repository.js'
import { SlotHolds } from '../bookings/slot-holds.js'
import { createAvailabilityCache } from '../cache/availability-cache.js'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { createBookingFlows } from '../sagas/booking-flows.js'

/**
 * A process that runs one saga (SAGA: `cancel` or `reschedule`, INPUT as JSON, SAGA_ID) with a short lease and
 * prints every saga event as a JSON line, so a test can SIGKILL it at a chosen step and resume the saga in
 * another runner.
 */
const env = process.env
const pool = new pg.Pool({ connectionString: env.DATABASE_URL })
const redis = new Redis(env.REDIS_URL!)
const cache = await createAvailabilityCache(env.REDIS_URL!)
const flows = createBookingFlows({
  redis: env.REDIS_URL!,
  cache,
  pool,
  bookings: new BookingRepository(pool),
  holds: new SlotHolds(redis, 30_000),
  calendar: new CalDavCalendarProvider({ url: env.CALDAV_URL!, timeout: 300 }),
  bus: new EventBus(),
  lease: '1s',
  events: { emit: (name, event) => process.stdout.write(`${JSON.stringify({ name, ...event })}\n`) },
})
const input = JSON.parse(env.INPUT!)
const saga = env.SAGA === 'cancel' ? flows.cancel : flows.reschedule
const outcome = await flows.runner.run(saga as typeof flows.cancel, input, { sagaId: env.SAGA_ID! })
process.stdout.write(`${JSON.stringify({ name: 'outcome', state: outcome.state })}\n`)
process.exit(0)

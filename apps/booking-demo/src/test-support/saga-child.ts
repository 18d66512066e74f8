import { EventBus } from '@cachesaga/queue'
import { pauseAtCrashPoint } from '@cachesaga/saga/testing'
import { Redis } from 'ioredis'
import pg from 'pg'
import { BookingRepository, type ConfirmBookingInput } from '../bookings/booking-repository.js'
import { SlotHolds } from '../bookings/slot-holds.js'
import { createAvailabilityCache } from '../cache/availability-cache.js'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { createBookingFlows } from '../sagas/booking-flows.js'

/**
 * A process that runs one of the booking sagas (SAGA: `book`, `cancel` or `reschedule`, INPUT as JSON, SAGA_ID) with
 * a short lease, and stops at every crash point until its parent answers (`runCrashPointChild`), so a test can
 * SIGKILL it exactly there and resume the saga in another runner. The points: every saga event (`step.started
 * commit`, `step.completed commit`: after its transaction committed, ...), `written commit` inside the booking
 * pivot's transaction, after the booking and its outbox row were written, and `COMMIT` just before any transaction
 * on the process's pool sends its COMMIT, whichever code opened it.
 */
class BookingsPausingBeforeCommit extends BookingRepository {
  override async confirm(transaction: pg.PoolClient, input: ConfirmBookingInput) {
    const change = await super.confirm(transaction, input)
    pauseAtCrashPoint('written commit')
    return change
  }
}

const env = process.env
const pool = new pg.Pool({ connectionString: env.DATABASE_URL })
pool.on('connect', (client) => {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | undefined)?.text
    if (text === 'COMMIT') pauseAtCrashPoint('COMMIT')
    return query(config, ...rest)
  }
})
const redis = new Redis(env.REDIS_URL!)
const cache = await createAvailabilityCache(env.REDIS_URL!)
const flows = createBookingFlows({
  cache,
  pool,
  bookings: new BookingsPausingBeforeCommit(pool),
  holds: new SlotHolds(redis, 30_000),
  calendar: new CalDavCalendarProvider({ url: env.CALDAV_URL!, timeout: 300 }),
  bus: new EventBus(),
  lease: '1s',
  events: { emit: (name, event) => pauseAtCrashPoint(event.step ? `${name} ${event.step}` : name) },
})
const input = JSON.parse(env.INPUT!)
const saga = { book: flows.book, cancel: flows.cancel, reschedule: flows.reschedule }[env.SAGA!]
const outcome = await flows.runner.run(saga as typeof flows.book, input, { sagaId: env.SAGA_ID! })
process.stdout.write(`done ${outcome.state}\n`)
process.exit(0)

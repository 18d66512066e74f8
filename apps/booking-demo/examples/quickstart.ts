import { randomUUID } from 'node:crypto'
import { OutboxRelay } from '@cachesaga/postgres'
import pg from 'pg'
import {
  type BookingEvent,
  BookingRepository,
  demoIds,
  eventIdOf,
  loadAvailability,
  migrate,
  seedDemoData,
  withTransaction,
} from '../src/index.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await migrate(pool)
await seedDemoData(pool)

// Ada's free one-hour slots on a Monday: her weekly hours minus bookings minus external busy blocks.
const query = { staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment, date: '2026-01-12' }
const before = await loadAvailability(pool, query)
console.log(`free slots: ${before.slots.length}`)

// The relay hands each batch of committed events to a dispatcher (the app's is @cachesaga/queue's Dispatcher).
let delivered!: (events: readonly BookingEvent[]) => void
const dispatched = new Promise<readonly BookingEvent[]>((resolve) => {
  delivered = resolve
})
const relay = new OutboxRelay<BookingEvent>({
  database: pool,
  dispatcher: { dispatchAll: async (events) => delivered(events) },
})
await relay.start()

// The booking and its event commit in the caller's transaction (in the app, the booking saga's pivot step's).
const bookingId = randomUUID()
const { booking } = await withTransaction(pool, (transaction) =>
  new BookingRepository(pool).confirm(transaction, {
    bookingId,
    tenantId: demoIds.tenant,
    staffId: demoIds.staff.ada,
    serviceId: demoIds.services.treatment,
    customerEmail: 'pat@example.com',
    start: before.slots[0]!.startsAt,
    // One id per fact: the outbox row, the queue job and any announcement of this booking carry it.
    eventId: eventIdOf(`quickstart:${bookingId}`),
  }),
)
console.log(`booked ${booking.slot.start}`)
console.log(`published ${(await dispatched)[0]!.type}`)
console.log(`free slots now: ${(await loadAvailability(pool, query)).slots.length}`)

await relay.stop()
await pool.end()

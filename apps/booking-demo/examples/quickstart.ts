import { randomUUID } from 'node:crypto'
import pg from 'pg'
import {
  BookingRepository,
  demoIds,
  loadAvailability,
  migrate,
  type OutboxMessage,
  OutboxRelay,
  seedDemoData,
} from '../src/index.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await migrate(pool)
await seedDemoData(pool)

// Ada's free one-hour slots on a Monday: her weekly hours minus bookings minus external busy blocks.
const query = { staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment, date: '2026-01-12' }
const before = await loadAvailability(pool, query)
console.log(`free slots: ${before.slots.length}`)

// The relay hands each committed domain event to `publish` (a queue, once @cachesaga/queue is plugged in).
let delivered!: (message: OutboxMessage) => void
const publishedOnce = new Promise<OutboxMessage>((resolve) => {
  delivered = resolve
})
const relay = new OutboxRelay({ pool, publish: async (message) => delivered(message) })
await relay.start()

const booking = await new BookingRepository(pool).confirm({
  bookingId: randomUUID(),
  tenantId: demoIds.tenant,
  staffId: demoIds.staff.ada,
  serviceId: demoIds.services.treatment,
  customerEmail: 'pat@example.com',
  startsAt: new Date(before.slots[0]!.startsAt),
})
console.log(`booked ${booking.startsAt.toISOString()}`)
console.log(`published ${(await publishedOnce).event.type}`)
console.log(`free slots now: ${(await loadAvailability(pool, query)).slots.length}`)

await relay.stop()
await pool.end()

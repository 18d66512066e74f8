import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { BookingRepository } from '../bookings/booking-repository.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { type OutboxMessage, OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js'

let db: TestDatabase
let bookings: BookingRepository
const relays: OutboxRelay[] = []
beforeAll(async () => {
  db = await createTestDatabase('outbox')
  await seedDemoData(db.pool)
  bookings = new BookingRepository(db.pool)
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('TRUNCATE bookings, outbox')
  booked = 0
})
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()))
})

// Ada's one-hour slots on Monday 12 January 2026 (Berlin, UTC+1).
const freeHours = ['08', '09', '10', '12', '13', '14', '15']
let booked = 0
function book() {
  const startsAt = new Date(`2026-01-12T${freeHours[booked++]}:00:00Z`)
  return bookings.confirm({
    bookingId: randomUUID(),
    tenantId: demoIds.tenant,
    staffId: demoIds.staff.ada,
    serviceId: demoIds.services.treatment,
    customerEmail: 'pat@example.com',
    startsAt,
  })
}

function relay(options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'publish'>): OutboxRelay {
  const created = new OutboxRelay({ pool: db.pool, pollIntervalMs: 60_000, ...options })
  relays.push(created)
  return created
}

function collector() {
  const published: OutboxMessage[] = []
  return { published, publish: async (message: OutboxMessage) => void published.push(message) }
}

async function unpublishedCount(): Promise<number> {
  const { rows } = await db.pool.query<{ count: string }>(
    'SELECT count(*) FROM outbox WHERE published_at IS NULL',
  )
  return Number(rows[0]!.count)
}

describe('relaying outbox events', () => {
  it('delivers an event committed while no relay was running as soon as a relay starts', async () => {
    const booking = await book()
    const sink = collector()
    await relay({ publish: sink.publish }).start()
    await vi.waitFor(() => expect(sink.published).toHaveLength(1), { timeout: 10_000 })
    expect(sink.published[0]!.event).toMatchObject({ type: 'booking.confirmed', bookingId: booking.id })
    expect(await unpublishedCount()).toBe(0)
  })

  it('is woken by the NOTIFY of a new event without waiting for its poll', async () => {
    const sink = collector()
    await relay({ publish: sink.publish }).start()
    const booking = await book()
    await vi.waitFor(() => expect(sink.published.map((m) => m.event.bookingId)).toEqual([booking.id]), {
      timeout: 10_000,
    })
  })

  it('delivers in commit order across batches', async () => {
    for (let i = 0; i < 7; i++) await book()
    const sink = collector()
    expect(await relay({ publish: sink.publish, batchSize: 3 }).relayPending()).toBe(7)
    const ids = sink.published.map((message) => Number(message.outboxId))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it('keeps a failed event, records the failure and delivers it on a later run', async () => {
    await book()
    let fail = true
    const sink = collector()
    const flaky = relay({
      publish: async (message) => {
        if (fail) throw new Error('queue unreachable')
        await sink.publish(message)
      },
    })
    const failures: Error[] = []
    flaky.on('failure', (error) => failures.push(error))
    expect(await flaky.relayPending()).toBe(0)
    expect(failures.map((error) => error.message)).toEqual(['queue unreachable'])
    const { rows } = await db.pool.query('SELECT attempts, last_error FROM outbox')
    expect(rows).toEqual([{ attempts: 1, last_error: 'queue unreachable' }])
    fail = false
    expect(await flaky.relayPending()).toBe(1)
    expect(sink.published).toHaveLength(1)
  })
})

describe('a relay that crashes mid-batch', () => {
  it('keeps its batch from other relays while alive, and a new relay delivers it after the crash', async () => {
    const booking = await book()
    // Relay A claims the event, then hangs inside publish, as a process about to die would.
    let publishing!: () => void
    const claimed = new Promise<void>((resolve) => {
      publishing = resolve
    })
    let wakeTheDead!: () => void
    const hang = new Promise<void>((resolve) => {
      wakeTheDead = resolve
    })
    const crashing = new OutboxRelay({
      pool: db.namedPool('relay-that-crashes'),
      pollIntervalMs: 60_000,
      publish: async () => {
        publishing()
        await hang
      },
    })
    void crashing.relayPending()
    await claimed

    const sink = collector()
    const survivor = relay({ publish: sink.publish })
    expect(await survivor.relayPending()).toBe(0)

    // The crash: its connection goes away without a commit, and PostgreSQL drops its row locks.
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'relay-that-crashes' AND datname = current_database()`,
    )
    await vi.waitFor(async () => expect(await survivor.relayPending()).toBe(1), { timeout: 10_000 })
    expect(sink.published.map((message) => message.event.bookingId)).toEqual([booking.id])
    expect(await unpublishedCount()).toBe(0)

    // Had the process lived on, its late commit would fail: the batch is not published twice by it.
    const lateFailures: Error[] = []
    crashing.on('failure', (error) => lateFailures.push(error))
    wakeTheDead()
    await crashing.stop()
    expect(lateFailures).toHaveLength(1)
  })
})

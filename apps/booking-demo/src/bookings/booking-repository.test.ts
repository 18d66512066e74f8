import { randomUUID } from 'node:crypto'
import { bookingCatalog } from '@cachesaga/queue'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { withTransaction } from '../db/transaction.js'
import { SlotTakenError } from '../errors.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { eventIdOf } from './booking-events.js'
import { type Booking, BookingRepository, type ConfirmBookingInput } from './booking-repository.js'

let db: TestDatabase
let bookings: BookingRepository
beforeAll(async () => {
  db = await createTestDatabase('bookings')
  await seedDemoData(db.pool)
  bookings = new BookingRepository(db.pool)
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('TRUNCATE bookings, cachesaga.outbox')
})

function request(start: string, bookingId = randomUUID()): ConfirmBookingInput {
  return {
    bookingId,
    tenantId: demoIds.tenant,
    staffId: demoIds.staff.ada,
    serviceId: demoIds.services.treatment,
    customerEmail: 'pat@example.com',
    start: new Date(start).toISOString(),
    eventId: eventIdOf(`test:${bookingId}`),
  }
}

// Each write in a transaction of its own, as a saga step's transaction would hold it.
const confirmed = (input: ConfirmBookingInput) =>
  withTransaction(db.pool, (transaction) => bookings.confirm(transaction, input))
const confirm = async (input: ConfirmBookingInput) => (await confirmed(input)).booking
const cancel = (tenantId: string, bookingId: string, eventId: string) =>
  withTransaction(db.pool, (transaction) => bookings.cancel(transaction, tenantId, bookingId, eventId))

async function outboxEvents(): Promise<Record<string, unknown>[]> {
  const { rows } = await db.pool.query('SELECT event FROM cachesaga.outbox ORDER BY id')
  return rows.map((row) => row.event)
}

async function overlappingConfirmedPairs(): Promise<number> {
  const { rows } = await db.pool.query<{ count: string }>(
    `SELECT count(*) FROM bookings a JOIN bookings b
       ON a.staff_id = b.staff_id AND a.id < b.id
      AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
     WHERE a.status = 'confirmed' AND b.status = 'confirmed'`,
  )
  return Number(rows[0]!.count)
}

describe('confirming bookings at the same time', () => {
  it('accepts exactly one booking per slot and refuses the rest with SlotTakenError', async () => {
    const slots = ['2026-01-12T08:00:00Z', '2026-01-12T09:00:00Z', '2026-01-12T12:00:00Z']
    const attempts = slots.flatMap((slot) => Array.from({ length: 10 }, () => confirm(request(slot))))
    const results = await Promise.allSettled(attempts)
    const accepted = results.filter((result) => result.status === 'fulfilled').map((result) => result.value)
    const refused = results.filter((result) => result.status === 'rejected').map((result) => result.reason)
    expect(accepted.map((booking) => booking.slot.start).sort()).toEqual(
      slots.map((slot) => new Date(slot).toISOString()),
    )
    expect(refused).toHaveLength(27)
    for (const reason of refused) {
      expect(reason).toBeInstanceOf(SlotTakenError)
      expect(reason).toMatchObject({ code: 'BOOKING_ERR_SLOT_TAKEN', staffId: demoIds.staff.ada })
    }
    expect(await overlappingConfirmedPairs()).toBe(0)
  })

  it('never leaves two overlapping confirmed bookings when attempts straddle each other', async () => {
    const starts = ['08:00', '08:20', '08:40', '09:00', '09:10', '09:30'].map(
      (time) => `2026-01-12T${time}:00Z`,
    )
    const results = await Promise.allSettled(
      starts.flatMap((start) => [start, start].map((s) => confirm(request(s)))),
    )
    const refused = results.filter((result) => result.status === 'rejected')
    expect(refused.length).toBeGreaterThanOrEqual(starts.length)
    for (const result of refused) expect(result.reason).toBeInstanceOf(SlotTakenError)
    expect(await overlappingConfirmedPairs()).toBe(0)
  })
})

describe('the exclusion constraint', () => {
  it('refuses an overlapping confirmed booking written by hand in SQL, but not a cancelled one', async () => {
    const insert = (status: string) =>
      db.pool.query(
        `INSERT INTO bookings (id, tenant_id, staff_id, service_id, customer_email, starts_at, ends_at, status)
         VALUES (gen_random_uuid(), $1, $2, $3, 'admin@example.com', '2026-01-12T08:30:00Z', '2026-01-12T09:30:00Z', $4)`,
        [demoIds.tenant, demoIds.staff.ada, demoIds.services.treatment, status],
      )
    await confirm(request('2026-01-12T08:00:00Z'))
    await expect(insert('confirmed')).rejects.toMatchObject({
      code: '23P01',
      constraint: 'bookings_no_overlap',
    })
    await expect(insert('cancelled')).resolves.toMatchObject({ rowCount: 1 })
  })
})

describe('times that are not offered', () => {
  it('refuses a time outside working hours, on a day off, or over an external busy block', async () => {
    await db.pool.query(
      `INSERT INTO external_busy_blocks (calendar_id, event_id, staff_id, starts_at, ends_at)
       VALUES ($1, 'dentist', $2, '2026-01-12T13:30:00Z', '2026-01-12T14:00:00Z')`,
      [demoIds.calendars.ada, demoIds.staff.ada],
    )
    try {
      // 12:00 in Berlin is lunch; 11:30 would run into it; 11 January is a Sunday.
      for (const startsAt of ['2026-01-12T11:00:00Z', '2026-01-12T10:30:00Z', '2026-01-11T09:00:00Z']) {
        await expect(confirm(request(startsAt))).rejects.toMatchObject({
          code: 'BOOKING_ERR_TIME_NOT_OFFERED',
          message: expect.stringContaining('outside their working hours'),
        })
      }
      await expect(confirm(request('2026-01-12T13:00:00Z'))).rejects.toMatchObject({
        code: 'BOOKING_ERR_TIME_NOT_OFFERED',
        message: expect.stringContaining('external calendar'),
      })
      expect(await outboxEvents()).toEqual([])
    } finally {
      await db.pool.query('TRUNCATE external_busy_blocks')
    }
  })
})

describe('the outbox', () => {
  it('holds one booking.created event per accepted booking, as the queue carries it, and none for a refused one', async () => {
    const input = request('2026-01-12T08:00:00Z')
    const booking = await confirm(input)
    await expect(confirm(request('2026-01-12T08:30:00Z'))).rejects.toBeInstanceOf(SlotTakenError)
    expect(await outboxEvents()).toEqual([
      {
        type: 'booking.created',
        version: 2,
        eventId: input.eventId,
        occurredAt: booking.updatedAt,
        tenantId: demoIds.tenant,
        payload: {
          bookingId: booking.id,
          staffId: demoIds.staff.ada,
          serviceId: demoIds.services.treatment,
          slot: { start: '2026-01-12T08:00:00.000Z', end: '2026-01-12T09:00:00.000Z' },
        },
      },
    ])
    // The event parses as the queue's own: one shape and one name for the fact.
    expect(bookingCatalog.parse((await outboxEvents())[0])).toMatchObject({ type: 'booking.created' })
  })

  it('gets no event when the booking transaction rolls back', async () => {
    await expect(
      confirm({ ...request('2026-01-12T08:00:00Z'), serviceId: randomUUID() }),
    ).rejects.toMatchObject({
      code: 'BOOKING_ERR_NOT_FOUND',
    })
    await expect(
      confirm({ ...request('2026-01-12T08:00:00Z'), staffId: randomUUID() }),
    ).rejects.toMatchObject({
      code: 'BOOKING_ERR_NOT_FOUND',
    })
    expect(await outboxEvents()).toEqual([])
  })
})

describe('a booking id used again', () => {
  it('returns the booking made the first time and writes no second event', async () => {
    const input = request('2026-01-12T08:00:00Z', '11111111-1111-4111-8111-111111111111')
    const first = await confirmed(input)
    const again = await confirmed(input)
    expect(again).toEqual({ booking: first.booking, event: null })
    expect(await outboxEvents()).toHaveLength(1)
  })
})

describe('cancelling and rescheduling', () => {
  let booking: Booking
  beforeEach(async () => {
    booking = await confirm(request('2026-01-12T08:00:00Z'))
  })
  const move = (start: string, from = booking.slot) =>
    withTransaction(db.pool, (transaction) =>
      bookings.reschedule(transaction, {
        tenantId: demoIds.tenant,
        bookingId: booking.id,
        from,
        start: new Date(start).toISOString(),
        eventId: eventIdOf(`move:${start}`),
      }),
    )

  it('frees the time of a cancelled booking for someone else, with one booking.cancelled event', async () => {
    const cancelled = await cancel(demoIds.tenant, booking.id, eventIdOf('cancel'))
    expect(cancelled.booking.status).toBe('cancelled')
    expect(await cancel(demoIds.tenant, booking.id, eventIdOf('cancel'))).toMatchObject({
      booking: { status: 'cancelled' },
      event: null,
    })
    await expect(confirm(request('2026-01-12T08:00:00Z'))).resolves.toMatchObject({ status: 'confirmed' })
    const types = (await outboxEvents()).map((event) => event.type)
    expect(types).toEqual(['booking.created', 'booking.cancelled', 'booking.created'])
  })

  it('moves a booking keeping its length and says where it was in the event; moving again is a retry', async () => {
    const { booking: moved } = await move('2026-01-12T12:00:00Z')
    expect(moved.slot.end).toBe('2026-01-12T13:00:00.000Z')
    expect((await outboxEvents()).at(-1)).toMatchObject({
      type: 'booking.rescheduled',
      version: 3,
      payload: {
        from: { start: '2026-01-12T08:00:00.000Z', end: '2026-01-12T09:00:00.000Z' },
        to: { start: '2026-01-12T12:00:00.000Z', end: '2026-01-12T13:00:00.000Z' },
      },
    })
    // The same move again (another reschedule to the same time) finds it done and writes nothing.
    expect((await move('2026-01-12T12:00:00Z', booking.slot)).event).toBeNull()
    expect(await outboxEvents()).toHaveLength(2)
  })

  it('refuses to move a booking that is no longer where the caller read it', async () => {
    await move('2026-01-12T12:00:00Z')
    await expect(move('2026-01-12T13:00:00Z', booking.slot)).rejects.toMatchObject({
      code: 'BOOKING_ERR_BOOKING_CHANGED',
    })
  })

  it('refuses to move a booking onto a taken time and leaves it where it was', async () => {
    await confirm(request('2026-01-12T12:00:00Z'))
    await expect(move('2026-01-12T12:30:00Z')).rejects.toBeInstanceOf(SlotTakenError)
    const { rows } = await db.pool.query('SELECT starts_at FROM bookings WHERE id = $1', [booking.id])
    expect(rows[0].starts_at.toISOString()).toBe('2026-01-12T08:00:00.000Z')
    expect(await outboxEvents()).toHaveLength(2)
  })

  it('refuses to move a booking outside working hours', async () => {
    await expect(move('2026-01-12T18:00:00Z')).rejects.toMatchObject({ code: 'BOOKING_ERR_TIME_NOT_OFFERED' })
  })

  it('does not cancel a booking of another tenant', async () => {
    await expect(cancel(randomUUID(), booking.id, eventIdOf('x'))).rejects.toMatchObject({
      code: 'BOOKING_ERR_NOT_FOUND',
    })
  })

  it("records the staff member's time zone on the row, which the change capture reads", async () => {
    expect(booking.timeZone).toBe('Europe/Berlin')
  })
})

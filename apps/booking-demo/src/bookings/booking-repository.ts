import type pg from 'pg'
import { withTransaction } from '../db/transaction.js'
import { BookingDemoError, SlotTakenError } from '../errors.js'
import { appendToOutbox } from '../outbox/append-to-outbox.js'
import { assertTimeOffered } from './assert-time-offered.js'
import type { BookingEvent } from './booking-events.js'

export interface ConfirmBookingInput {
  /** Chosen by the caller (a saga step), so a retry of the same step finds the booking it already made. */
  bookingId: string
  tenantId: string
  staffId: string
  serviceId: string
  customerEmail: string
  startsAt: Date
}

export interface Booking {
  id: string
  tenantId: string
  staffId: string
  serviceId: string
  customerEmail: string
  startsAt: Date
  endsAt: Date
  status: 'confirmed' | 'cancelled'
}

interface RescheduledBooking extends Booking {
  previous: { startsAt: Date; endsAt: Date }
}

interface BookingRow {
  id: string
  tenant_id: string
  staff_id: string
  service_id: string
  customer_email: string
  starts_at: Date
  ends_at: Date
  status: Booking['status']
}

const BOOKING_COLUMNS = 'id, tenant_id, staff_id, service_id, customer_email, starts_at, ends_at, status'

/** PostgreSQL's `exclusion_violation`: here always `bookings_no_overlap`. */
const EXCLUSION_VIOLATION = '23P01'

/**
 * Writes bookings. Every write commits together with its domain event in the outbox, and the database's
 * exclusion constraint, not a prior availability read, decides whether a time is still free.
 */
export class BookingRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Confirms a booking of the service's length at `startsAt`. Idempotent on `bookingId`: confirming an
   * existing booking returns it without a second event. Throws `SlotTakenError` when the time is taken and
   * `BOOKING_ERR_TIME_NOT_OFFERED` when it is outside working hours or blocked in the external calendar.
   */
  async confirm(input: ConfirmBookingInput): Promise<Booking> {
    return withTransaction(this.pool, async (transaction) => {
      await lockStaffCalendar(transaction, input.staffId)
      const existing = await findBooking(transaction, input.tenantId, input.bookingId)
      if (existing) return existing
      const booking = await insertOrExplain(transaction, input)
      await appendToOutbox(transaction, eventOf('booking.confirmed', booking))
      return booking
    })
  }

  /** Cancels a booking; its time is free again once this resolves. Cancelling twice changes nothing more. */
  async cancel(tenantId: string, bookingId: string): Promise<Booking> {
    return withTransaction(this.pool, async (transaction) => {
      const { rows } = await transaction.query<BookingRow>(
        `UPDATE bookings SET status = 'cancelled', updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND status = 'confirmed' RETURNING ${BOOKING_COLUMNS}`,
        [tenantId, bookingId],
      )
      const cancelled = rows[0]
      if (!cancelled) return requireBooking(transaction, tenantId, bookingId)
      const booking = toBooking(cancelled)
      await appendToOutbox(transaction, eventOf('booking.cancelled', booking))
      return booking
    })
  }

  /**
   * Moves a confirmed booking to `startsAt`, keeping its length; throws as `confirm` does for the new time.
   * Returns the moved booking with the time it left, which is freed.
   */
  async reschedule(tenantId: string, bookingId: string, startsAt: Date): Promise<RescheduledBooking> {
    return withTransaction(this.pool, async (transaction) => {
      const before = await requireBooking(transaction, tenantId, bookingId, 'FOR UPDATE')
      if (before.status !== 'confirmed') {
        throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no confirmed booking ${bookingId} to reschedule`)
      }
      await lockStaffCalendar(transaction, before.staffId)
      const endsAt = new Date(startsAt.getTime() + (before.endsAt.getTime() - before.startsAt.getTime()))
      await assertTimeOffered(transaction, before.staffId, startsAt, endsAt)
      const { rows } = await explainOverlap(before.staffId, startsAt, endsAt, () =>
        transaction.query<BookingRow>(
          `UPDATE bookings SET starts_at = $3, ends_at = $4, updated_at = now()
           WHERE tenant_id = $1 AND id = $2 RETURNING ${BOOKING_COLUMNS}`,
          [tenantId, bookingId, startsAt, endsAt],
        ),
      )
      const booking = toBooking(rows[0]!)
      await appendToOutbox(transaction, {
        ...eventOf('booking.rescheduled', booking),
        previous: { startsAt: before.startsAt.toISOString(), endsAt: before.endsAt.toISOString() },
      })
      return { ...booking, previous: { startsAt: before.startsAt, endsAt: before.endsAt } }
    })
  }
}

/**
 * Bookings of one staff member take turns. Without this, two inserts whose times straddle each other each
 * wait in the exclusion check for the other to commit, and PostgreSQL breaks the deadlock after a second;
 * taking turns turns that into an immediate `23P01` for the later one. The constraint still decides.
 */
async function lockStaffCalendar(transaction: pg.PoolClient, staffId: string): Promise<void> {
  await transaction.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [staffId])
}

async function insertOrExplain(transaction: pg.PoolClient, input: ConfirmBookingInput): Promise<Booking> {
  const { rows: found } = await transaction.query<{ duration_minutes: number; staff_found: boolean }>(
    `SELECT v.duration_minutes, EXISTS (SELECT 1 FROM staff s WHERE s.tenant_id = $1 AND s.id = $3) AS staff_found
     FROM services v WHERE v.tenant_id = $1 AND v.id = $2`,
    [input.tenantId, input.serviceId, input.staffId],
  )
  const service = found[0]
  if (!service?.staff_found) {
    const missing = service ? `staff ${input.staffId}` : `service ${input.serviceId}`
    throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no ${missing} in tenant ${input.tenantId}`)
  }
  const endsAt = new Date(input.startsAt.getTime() + service.duration_minutes * 60_000)
  await assertTimeOffered(transaction, input.staffId, input.startsAt, endsAt)
  const { rows } = await explainOverlap(input.staffId, input.startsAt, endsAt, () =>
    transaction.query<BookingRow>(
      `INSERT INTO bookings (id, tenant_id, staff_id, service_id, customer_email, starts_at, ends_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${BOOKING_COLUMNS}`,
      [
        input.bookingId,
        input.tenantId,
        input.staffId,
        input.serviceId,
        input.customerEmail,
        input.startsAt,
        endsAt,
      ],
    ),
  )
  return toBooking(rows[0]!)
}

async function explainOverlap<T>(
  staffId: string,
  startsAt: Date,
  endsAt: Date,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if ((error as { code?: unknown }).code === EXCLUSION_VIOLATION) {
      throw new SlotTakenError(staffId, startsAt, endsAt, { cause: error })
    }
    throw error
  }
}

async function findBooking(
  transaction: pg.PoolClient,
  tenantId: string,
  bookingId: string,
  lock: '' | 'FOR UPDATE' = '',
): Promise<Booking | undefined> {
  const { rows } = await transaction.query<BookingRow>(
    `SELECT ${BOOKING_COLUMNS} FROM bookings WHERE tenant_id = $1 AND id = $2 ${lock}`,
    [tenantId, bookingId],
  )
  return rows[0] && toBooking(rows[0])
}

async function requireBooking(
  transaction: pg.PoolClient,
  tenantId: string,
  bookingId: string,
  lock: '' | 'FOR UPDATE' = '',
): Promise<Booking> {
  const booking = await findBooking(transaction, tenantId, bookingId, lock)
  if (!booking)
    throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no booking ${bookingId} in tenant ${tenantId}`)
  return booking
}

function eventOf<Type extends BookingEvent['type']>(type: Type, booking: Booking) {
  return {
    type,
    tenantId: booking.tenantId,
    bookingId: booking.id,
    staffId: booking.staffId,
    serviceId: booking.serviceId,
    startsAt: booking.startsAt.toISOString(),
    endsAt: booking.endsAt.toISOString(),
  }
}

function toBooking(row: BookingRow): Booking {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    staffId: row.staff_id,
    serviceId: row.service_id,
    customerEmail: row.customer_email,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    status: row.status,
  }
}

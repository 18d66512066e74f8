import { appendToOutbox } from '@cachesaga/postgres'
import type { Slot } from '@cachesaga/queue'
import type pg from 'pg'
import { BookingDemoError, SlotTakenError } from '../errors.js'
import { assertTimeOffered } from './assert-time-offered.js'
import { type BookingEvent, bookingCancelled, bookingCreated, bookingRescheduled } from './booking-events.js'

export interface ConfirmBookingInput {
  /** Chosen by the caller (a saga step), so a retry of the same step finds the booking it already made. */
  bookingId: string
  tenantId: string
  staffId: string
  serviceId: string
  customerEmail: string
  /** ISO 8601 instant; the service decides the end. */
  start: string
  /** The id of the `booking.created` event (see `eventIdOf`). */
  eventId: string
  /**
   * SHA-256 (hex) of the booking's management token (`newManagementToken`): whoever holds the token may cancel or
   * move it through the API. Without one, nobody can there.
   */
  managementTokenHash?: string
}

export interface RescheduleBookingInput {
  tenantId: string
  bookingId: string
  /** Where the caller read the booking: it is moved only if it is still there (compare and set). */
  from: Slot
  /** The new start; the booking keeps its length. */
  start: string
  eventId: string
}

export interface Booking {
  id: string
  tenantId: string
  staffId: string
  serviceId: string
  customerEmail: string
  slot: Slot
  status: 'confirmed' | 'cancelled'
  /** The staff member's zone when the row was last written: the zone its days are counted in. */
  timeZone: string
  /** ISO 8601: when the row was last written, which is when its latest event occurred. */
  updatedAt: string
}

/** A write and the event it committed with; `event` is null when the write had already been done. */
export interface BookingChange {
  booking: Booking
  event: BookingEvent | null
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
  time_zone: string
  updated_at: Date
}

const BOOKING_COLUMNS =
  'id, tenant_id, staff_id, service_id, customer_email, starts_at, ends_at, status, time_zone, updated_at'

/** PostgreSQL's `exclusion_violation`: here always `bookings_no_overlap`. */
const EXCLUSION_VIOLATION = '23P01'

/**
 * Writes bookings. Every write runs in the caller's transaction and appends its domain event to
 * @cachesaga/postgres's outbox there: in the sagas, the pivot step's transaction of the PostgreSQL saga store, which
 * also records that the step completed, so the booking, its event and the step's completion commit together. The
 * database's exclusion constraint, not a prior availability read, decides whether a time is still free. A write that
 * finds itself already done (a booking id used before, a booking already cancelled or already at the new time)
 * returns the booking as it is, with no second event.
 */
export class BookingRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Confirms a booking of the service's length at `start`. Throws `SlotTakenError` when the time is taken and
   * `BOOKING_ERR_TIME_NOT_OFFERED` when it is outside working hours or blocked in the external calendar.
   */
  async confirm(transaction: pg.PoolClient, input: ConfirmBookingInput): Promise<BookingChange> {
    await lockStaffCalendar(transaction, input.staffId)
    const existing = await findBooking(transaction, input.tenantId, input.bookingId)
    if (existing) return { booking: existing, event: null }
    const booking = await insertOrExplain(transaction, input)
    const event = bookingCreated(booking, input.eventId)
    await appendToOutbox(transaction, [event])
    return { booking, event }
  }

  /** Cancels a booking; its time is free again once the transaction commits. Cancelling twice changes nothing more. */
  async cancel(
    transaction: pg.PoolClient,
    tenantId: string,
    bookingId: string,
    eventId: string,
  ): Promise<BookingChange> {
    const { rows } = await transaction.query<BookingRow>(
      `UPDATE bookings SET status = 'cancelled', updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND status = 'confirmed' RETURNING ${BOOKING_COLUMNS}`,
      [tenantId, bookingId],
    )
    if (!rows[0]) return { booking: await requireBooking(transaction, tenantId, bookingId), event: null }
    const booking = toBooking(rows[0])
    const event = bookingCancelled(booking, eventId)
    await appendToOutbox(transaction, [event])
    return { booking, event }
  }

  /** The booking as it is now; `BOOKING_ERR_NOT_FOUND` when the tenant has no such booking. */
  async find(tenantId: string, bookingId: string): Promise<Booking> {
    const { rows } = await this.pool.query<BookingRow>(
      `SELECT ${BOOKING_COLUMNS} FROM bookings WHERE tenant_id = $1 AND id = $2`,
      [tenantId, bookingId],
    )
    if (!rows[0]) throw notFound(tenantId, bookingId)
    return toBooking(rows[0])
  }

  /**
   * Moves a confirmed booking from `from` to `start`, keeping its length; throws as `confirm` does for the new
   * time, and `BOOKING_ERR_BOOKING_CHANGED` when it is no longer confirmed at `from` (moved or cancelled by
   * someone else). Finding it already at the new time is this move done before: no second event.
   */
  async reschedule(transaction: pg.PoolClient, input: RescheduleBookingInput): Promise<BookingChange> {
    const before = await requireBooking(transaction, input.tenantId, input.bookingId, 'FOR UPDATE')
    const start = new Date(input.start)
    const end = new Date(start.getTime() + (Date.parse(input.from.end) - Date.parse(input.from.start)))
    const to = { start: start.toISOString(), end: end.toISOString() }
    if (before.status === 'confirmed' && sameSlot(before.slot, to)) return { booking: before, event: null }
    if (before.status !== 'confirmed' || !sameSlot(before.slot, input.from)) {
      throw new BookingDemoError(
        'BOOKING_ERR_BOOKING_CHANGED',
        `booking ${input.bookingId} is no longer confirmed at ${input.from.start}`,
        { details: { bookingId: input.bookingId, status: before.status, slot: before.slot } },
      )
    }
    await lockStaffCalendar(transaction, before.staffId)
    await assertTimeOffered(transaction, before.staffId, start, end)
    const { rows } = await explainOverlap(before.staffId, to, () =>
      transaction.query<BookingRow>(
        `UPDATE bookings SET starts_at = $3, ends_at = $4, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 RETURNING ${BOOKING_COLUMNS}`,
        [input.tenantId, input.bookingId, start, end],
      ),
    )
    const booking = toBooking(rows[0]!)
    const event = bookingRescheduled(booking, before.slot, input.eventId)
    await appendToOutbox(transaction, [event])
    return { booking, event }
  }
}

function sameSlot(a: Slot, b: Slot): boolean {
  return Date.parse(a.start) === Date.parse(b.start) && Date.parse(a.end) === Date.parse(b.end)
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
    throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no ${missing} in tenant ${input.tenantId}`, {
      details: service ? { staffId: input.staffId } : { serviceId: input.serviceId },
    })
  }
  const start = new Date(input.start)
  const end = new Date(start.getTime() + service.duration_minutes * 60_000)
  await assertTimeOffered(transaction, input.staffId, start, end)
  const slot = { start: start.toISOString(), end: end.toISOString() }
  const { rows } = await explainOverlap(input.staffId, slot, () =>
    transaction.query<BookingRow>(
      `INSERT INTO bookings (id, tenant_id, staff_id, service_id, customer_email, starts_at, ends_at, management_token_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex')) RETURNING ${BOOKING_COLUMNS}`,
      [
        input.bookingId,
        input.tenantId,
        input.staffId,
        input.serviceId,
        input.customerEmail,
        start,
        end,
        input.managementTokenHash ?? null,
      ],
    ),
  )
  return toBooking(rows[0]!)
}

async function explainOverlap<T>(staffId: string, slot: Slot, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if ((error as { code?: unknown }).code === EXCLUSION_VIOLATION) {
      throw new SlotTakenError(staffId, slot.start, slot.end, { cause: error })
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
  if (!booking) throw notFound(tenantId, bookingId)
  return booking
}

function notFound(tenantId: string, bookingId: string): BookingDemoError {
  return new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no booking ${bookingId} in tenant ${tenantId}`, {
    details: { bookingId },
  })
}

function toBooking(row: BookingRow): Booking {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    staffId: row.staff_id,
    serviceId: row.service_id,
    customerEmail: row.customer_email,
    slot: { start: row.starts_at.toISOString(), end: row.ends_at.toISOString() },
    status: row.status,
    timeZone: row.time_zone,
    updatedAt: row.updated_at.toISOString(),
  }
}

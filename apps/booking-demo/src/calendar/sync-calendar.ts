import type pg from 'pg'
import { withTransaction } from '../db/transaction.js'
import { BookingDemoError } from '../errors.js'
import { parseInput } from '../parse-input.js'
import { type CalendarChanges, type CalendarProvider, calendarChangesSchema } from './calendar-provider.js'

export type CalendarSyncResult =
  /** The changes were applied and the new token stored, in one transaction. */
  | { status: 'applied'; staffId: string; applied: number; syncToken: string }
  /** Another sync stored a newer token first; it applied these changes, so this one applied nothing. */
  | { status: 'superseded'; staffId: string }

/**
 * Pulls what changed in the staff member's external calendar since the stored token and applies it to
 * `external_busy_blocks`. The blocks and the new token commit together, and only if the token is still the
 * one the pull started from, so every change is applied once even when syncs run at the same time or one
 * dies halfway. Provider failures (`CalendarUnavailableError`) propagate for the caller to retry.
 */
export async function syncCalendar(
  pool: pg.Pool,
  provider: CalendarProvider,
  calendarId: string,
): Promise<CalendarSyncResult> {
  const { rows } = await pool.query<{ staff_id: string; sync_token: string | null }>(
    `SELECT s.id AS staff_id, t.sync_token FROM staff s
     LEFT JOIN external_calendar_sync_state t ON t.calendar_id = s.external_calendar_id
     WHERE s.external_calendar_id = $1`,
    [calendarId],
  )
  const calendar = rows[0]
  if (!calendar) throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no staff has calendar ${calendarId}`)
  const staffId = calendar.staff_id
  // Outside the transaction: no row lock is held while waiting on the network.
  const changes = parseInput(
    calendarChangesSchema,
    await provider.listChanges(calendarId, calendar.sync_token),
    'listChanges',
  )
  return withTransaction(pool, async (transaction) => {
    const swapped = await swapToken(transaction, calendarId, calendar.sync_token, changes.nextSyncToken)
    if (!swapped) return { status: 'superseded', staffId }
    const applied = await applyChanges(transaction, calendarId, staffId, changes)
    return { status: 'applied', staffId, applied, syncToken: changes.nextSyncToken }
  })
}

/** Compare-and-set: a concurrent sync that got here first holds the row (or key) until it commits. */
async function swapToken(
  transaction: pg.PoolClient,
  calendarId: string,
  expected: string | null,
  next: string,
): Promise<boolean> {
  const result =
    expected === null
      ? await transaction.query(
          `INSERT INTO external_calendar_sync_state (calendar_id, sync_token) VALUES ($1, $2)
           ON CONFLICT (calendar_id) DO NOTHING`,
          [calendarId, next],
        )
      : await transaction.query(
          `UPDATE external_calendar_sync_state SET sync_token = $3, synced_at = now()
           WHERE calendar_id = $1 AND sync_token = $2`,
          [calendarId, expected, next],
        )
  return result.rowCount === 1
}

async function applyChanges(
  transaction: pg.PoolClient,
  calendarId: string,
  staffId: string,
  changes: CalendarChanges,
): Promise<number> {
  // The app's own bookings are in `bookings` already; copying them would block their time twice.
  const foreign = changes.events.filter((event) => event.bookingId === null)
  if (changes.fullSync) {
    await transaction.query('DELETE FROM external_busy_blocks WHERE calendar_id = $1', [calendarId])
  }
  for (const event of foreign) {
    if (event.cancelled) {
      await transaction.query('DELETE FROM external_busy_blocks WHERE calendar_id = $1 AND event_id = $2', [
        calendarId,
        event.id,
      ])
    } else {
      await transaction.query(
        `INSERT INTO external_busy_blocks (calendar_id, event_id, staff_id, starts_at, ends_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (calendar_id, event_id) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
        [calendarId, event.id, staffId, event.startsAt, event.endsAt],
      )
    }
  }
  return foreign.length
}

import { errorCode } from '@cachesaga/common'
import type { InvalidationTarget } from '@cachesaga/core'
import type pg from 'pg'
import { targetForBusyTime, targetForStaffEdit } from '../cache/availability-mapping.js'
import { withTransaction } from '../db/transaction.js'
import { BookingDemoError } from '../errors.js'
import { parseInput } from '../parse-input.js'
import {
  type BusyWindow,
  type CalendarChanges,
  type CalendarProvider,
  calendarChangesSchema,
} from './calendar-provider.js'

const DAY_MS = 86_400_000
/** Busy time is kept from yesterday (a day that is still bookable somewhere on Earth) to this far ahead. */
const HORIZON_DAYS = 365
/**
 * Recurring events are expanded up to the window's end; once the window has moved this far past the last
 * full sync's end, the next sync reads the whole calendar again so the expansion keeps up.
 */
const REEXPAND_AFTER_DAYS = 30
/** An incremental sync touching more local days than this invalidates the staff member's scope instead. */
const MAX_DAY_TAGS = 62

/** Why a sync read the whole calendar instead of the changes since the stored token. */
export type FullSyncReason = 'first-sync' | 'token-rejected' | 'window-moved'

export type CalendarSyncResult =
  /** The changes were applied and the new token stored, in one transaction. */
  | {
      status: 'applied'
      staffId: string
      /** Null for an incremental sync. */
      fullSync: FullSyncReason | null
      /** Calendar objects read (changed, added or deleted; all of them on a full sync). */
      applied: number
      /** Objects whose iCalendar data did not parse; skipped. */
      unreadable: string[]
      syncToken: string
      /** What to invalidate now that the transaction committed (the local days whose busy time changed), or null. */
      invalidate: InvalidationTarget | null
    }
  /** Another sync stored a newer token first; it applied these changes, so this one applied nothing. */
  | { status: 'superseded'; staffId: string }

interface CalendarOwner {
  tenant_id: string
  staff_id: string
  time_zone: string
  sync_token: string | null
  window_ends_at: Date | null
}

interface BusyRow {
  starts_at: Date
  ends_at: Date
}

/**
 * Pulls what changed in the staff member's external calendar since the stored token and applies it to
 * `external_busy_blocks`, in the order real servers need: fetch the changes (outside any transaction, so
 * no lock is held while waiting on the network), then in one transaction swap the token (compare and set
 * on the one the pull started from) and replace the busy blocks of every changed object, then hand the
 * caller the days to invalidate. A token the server refuses (`valid-sync-token`) is answered with a full
 * resync that replaces all the calendar's blocks. Every change is applied once even when syncs run at the
 * same time or one dies halfway; provider failures (`CalendarError`) propagate for the caller to retry.
 */
export async function syncCalendar(
  pool: pg.Pool,
  provider: CalendarProvider,
  calendarId: string,
  now = new Date(),
): Promise<CalendarSyncResult> {
  const owner = await loadOwner(pool, calendarId)
  const window: BusyWindow = {
    from: new Date(now.getTime() - DAY_MS),
    to: new Date(now.getTime() + HORIZON_DAYS * DAY_MS),
  }
  const read = (token: string | null) =>
    provider
      .listChanges(calendarId, token, { window, timeZone: owner.time_zone })
      .then((answer) => parseInput(calendarChangesSchema, answer, 'listChanges'))
  let fullSync = fullSyncReason(owner, window)
  let changes: CalendarChanges
  if (fullSync === null) {
    try {
      changes = await read(owner.sync_token)
    } catch (error) {
      if (errorCode(error) !== 'BOOKING_ERR_CALENDAR_SYNC_TOKEN_REJECTED') throw error
      fullSync = 'token-rejected'
      changes = await read(null)
    }
  } else {
    changes = await read(null)
  }
  return withTransaction(pool, async (transaction) => {
    const swapped = await swapToken(transaction, calendarId, owner.sync_token, changes.nextSyncToken)
    if (!swapped) return { status: 'superseded', staffId: owner.staff_id }
    const replaced = await replaceBusyBlocks(transaction, calendarId, owner.staff_id, changes)
    if (fullSync !== null) {
      await transaction.query(
        'UPDATE external_calendar_sync_state SET window_ends_at = $2 WHERE calendar_id = $1',
        [calendarId, window.to],
      )
    }
    return {
      status: 'applied',
      staffId: owner.staff_id,
      fullSync,
      applied: changes.events.length,
      unreadable: changes.unreadable,
      syncToken: changes.nextSyncToken,
      invalidate: invalidationFor(owner, fullSync !== null, replaced),
    }
  })
}

async function loadOwner(pool: pg.Pool, calendarId: string): Promise<CalendarOwner> {
  const { rows } = await pool.query<CalendarOwner>(
    `SELECT s.tenant_id, s.id AS staff_id, s.time_zone, t.sync_token, t.window_ends_at FROM staff s
     LEFT JOIN external_calendar_sync_state t ON t.calendar_id = s.external_calendar_id
     WHERE s.external_calendar_id = $1`,
    [calendarId],
  )
  const owner = rows[0]
  if (!owner) {
    throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no staff has calendar ${calendarId}`, {
      details: { calendarId },
    })
  }
  return owner
}

function fullSyncReason(owner: CalendarOwner, window: BusyWindow): FullSyncReason | null {
  if (owner.sync_token === null) return 'first-sync'
  const expandedUntil = owner.window_ends_at?.getTime() ?? 0
  return expandedUntil < window.to.getTime() - REEXPAND_AFTER_DAYS * DAY_MS ? 'window-moved' : null
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

/**
 * Replaces the blocks of every changed object (all of the calendar's on a full sync) with its busy time
 * now: one DELETE and one INSERT, whatever the number of objects. Returns the blocks removed and added,
 * whose days are what changed. The app's own bookings are in `bookings` already; copying their events
 * would block their time twice, so they get no blocks.
 */
async function replaceBusyBlocks(
  transaction: pg.PoolClient,
  calendarId: string,
  staffId: string,
  changes: CalendarChanges,
): Promise<BusyRow[]> {
  const removed = changes.fullSync
    ? await transaction.query<BusyRow>(
        'DELETE FROM external_busy_blocks WHERE calendar_id = $1 RETURNING starts_at, ends_at',
        [calendarId],
      )
    : await transaction.query<BusyRow>(
        `DELETE FROM external_busy_blocks WHERE calendar_id = $1 AND event_id = ANY($2::text[])
         RETURNING starts_at, ends_at`,
        [calendarId, changes.events.map((event) => event.id)],
      )
  const blocks = changes.events
    .filter((event) => event.bookingId === null)
    .flatMap((event) => event.busy.map((busy) => ({ id: event.id, ...busy })))
  const added = await transaction.query<BusyRow>(
    `INSERT INTO external_busy_blocks (calendar_id, event_id, staff_id, starts_at, ends_at)
     SELECT $1, b.event_id, $2, b.starts_at, b.ends_at
     FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[]) AS b (event_id, starts_at, ends_at)
     -- Two occurrences of one object starting together (an override on top of its own instance) are one block.
     ON CONFLICT (calendar_id, event_id, starts_at) DO UPDATE SET ends_at = greatest(external_busy_blocks.ends_at, excluded.ends_at)
     RETURNING starts_at, ends_at`,
    [
      calendarId,
      staffId,
      blocks.map((block) => block.id),
      blocks.map((block) => block.startsAt),
      blocks.map((block) => block.endsAt),
    ],
  )
  return [...removed.rows, ...added.rows]
}

/** The local days whose busy time changed; the whole staff scope after a full sync or a change of many days. */
function invalidationFor(
  owner: CalendarOwner,
  fullSync: boolean,
  changed: BusyRow[],
): InvalidationTarget | null {
  if (fullSync) return targetForStaffEdit(owner.tenant_id, owner.staff_id)
  const target = targetForBusyTime(
    owner.staff_id,
    owner.time_zone,
    changed.map((row) => ({ start: row.starts_at.toISOString(), end: row.ends_at.toISOString() })),
  )
  // The mapping's `sync` adds the staff member's schedule tag to the days.
  const days = (target?.tags?.length ?? 1) - 1
  return days > MAX_DAY_TAGS ? targetForStaffEdit(owner.tenant_id, owner.staff_id) : target
}

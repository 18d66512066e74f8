import type pg from 'pg'
import { z } from 'zod'
import { withTransaction } from '../db/transaction.js'
import { CalendarUnavailableError } from '../errors.js'
import { parseInput } from '../parse-input.js'
import type { CalendarChanges, CalendarProvider } from './calendar-provider.js'

export interface CalendarEventInput {
  id: string
  startsAt: Date
  endsAt: Date
  /** Marks an event written by the booking app for one of its bookings. */
  bookingId?: string
}

interface EventRow {
  id: string
  starts_at: Date
  ends_at: Date
  cancelled: boolean
  booking_id: string | null
}

const syncTokenSchema = z.string().regex(/^v\d+$/, 'a token returned by listChanges')

/**
 * A stand-in for an external calendar service that keeps sync tokens the way Google Calendar does: a read
 * without a token returns every live event, a read with one returns what changed after it (deleted events
 * included, as cancelled), and both return the token for the next read. Its state lives in the
 * `simulated_calendar` schema so the API and worker processes share one provider.
 */
export class SimulatedCalendarProvider implements CalendarProvider {
  private failuresLeft = 0

  constructor(private readonly pool: pg.Pool) {}

  /** The next `calls` calls on this instance fail with `CalendarUnavailableError`, as a flaky network would. */
  failTransiently(calls: number): void {
    this.failuresLeft = calls
  }

  async listChanges(calendarId: string, syncToken: string | null): Promise<CalendarChanges> {
    this.failIfTold()
    const since = syncToken === null ? null : parseInput(syncTokenSchema, syncToken, 'syncToken').slice(1)
    // One statement, one snapshot: the version read matches the events read.
    const { rows } = await this.pool.query<{ version: string | null; events: EventRow[] }>(
      `SELECT (SELECT version::text FROM simulated_calendar.calendars WHERE id = $1) AS version,
              coalesce((SELECT json_agg(e ORDER BY e.version)
                        FROM (SELECT id, starts_at, ends_at, cancelled, booking_id, version
                              FROM simulated_calendar.events
                              WHERE calendar_id = $1
                                AND CASE WHEN $2::bigint IS NULL THEN NOT cancelled ELSE version > $2::bigint END) e),
                       '[]') AS events`,
      [calendarId, since],
    )
    const { version, events } = rows[0]!
    return {
      fullSync: syncToken === null,
      events: events.map((event) => ({
        id: event.id,
        startsAt: new Date(event.starts_at),
        endsAt: new Date(event.ends_at),
        cancelled: event.cancelled,
        bookingId: event.booking_id,
      })),
      nextSyncToken: `v${version ?? 0}`,
    }
  }

  /** Creates or moves an event. */
  async putEvent(calendarId: string, event: CalendarEventInput): Promise<void> {
    this.failIfTold()
    await this.write(calendarId, (transaction, version) =>
      transaction.query(
        `INSERT INTO simulated_calendar.events (calendar_id, id, starts_at, ends_at, booking_id, version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (calendar_id, id) DO UPDATE
           SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, cancelled = false, version = excluded.version`,
        [calendarId, event.id, event.startsAt, event.endsAt, event.bookingId ?? null, version],
      ),
    )
  }

  /** Deletes an event; later incremental reads report it as cancelled. */
  async deleteEvent(calendarId: string, eventId: string): Promise<void> {
    this.failIfTold()
    await this.write(calendarId, (transaction, version) =>
      transaction.query(
        'UPDATE simulated_calendar.events SET cancelled = true, version = $3 WHERE calendar_id = $1 AND id = $2',
        [calendarId, eventId, version],
      ),
    )
  }

  private async write(
    calendarId: string,
    change: (transaction: pg.PoolClient, version: string) => Promise<unknown>,
  ): Promise<void> {
    await withTransaction(this.pool, async (transaction) => {
      // The row lock orders writers: versions commit in the order they are handed out, so a reader that
      // saw version N has seen every change up to N.
      const { rows } = await transaction.query<{ version: string }>(
        `INSERT INTO simulated_calendar.calendars (id, version) VALUES ($1, 1)
         ON CONFLICT (id) DO UPDATE SET version = simulated_calendar.calendars.version + 1
         RETURNING version::text`,
        [calendarId],
      )
      await change(transaction, rows[0]!.version)
    })
  }

  private failIfTold(): void {
    if (this.failuresLeft === 0) return
    this.failuresLeft--
    throw new CalendarUnavailableError('the simulated calendar provider was told to fail (503)')
  }
}

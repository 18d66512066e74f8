import type pg from 'pg'
import type { CalDavCalendarProvider } from './caldav/caldav-calendar-provider.js'

/** Creates every staff member's calendar collection that the server does not have yet; returns their ids. */
export async function ensureStaffCalendars(
  pool: pg.Pool,
  provider: CalDavCalendarProvider,
): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT DISTINCT external_calendar_id AS id FROM staff WHERE external_calendar_id IS NOT NULL ORDER BY 1',
  )
  for (const { id } of rows) await provider.ensureCalendar(id)
  return rows.map((row) => row.id)
}

import type { Queryable } from '../db/queryable.js'
import { BookingDemoError } from '../errors.js'

/** What the cache wiring and the calendar step need to know about a staff member. */
export interface StaffProfile {
  timeZone: string
  calendarId: string | null
}

export async function loadStaffProfile(db: Queryable, staffId: string): Promise<StaffProfile> {
  const { rows } = await db.query<{ time_zone: string; external_calendar_id: string | null }>(
    'SELECT time_zone, external_calendar_id FROM staff WHERE id = $1',
    [staffId],
  )
  const row = rows[0]
  if (!row)
    throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no staff ${staffId}`, { details: { staffId } })
  return { timeZone: row.time_zone, calendarId: row.external_calendar_id }
}

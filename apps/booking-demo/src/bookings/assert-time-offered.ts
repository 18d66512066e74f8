import type pg from 'pg'
import { BookingDemoError } from '../errors.js'

/**
 * Throws `BOOKING_ERR_TIME_NOT_OFFERED` unless `[startsAt, endsAt)` lies inside one of the staff member's
 * working windows that day and clear of their external busy blocks. Read from the database inside the
 * booking's transaction: a booking never relies on cached availability. Overlaps with other bookings are
 * left to the exclusion constraint, the only check that holds under concurrency.
 */
export async function assertTimeOffered(
  transaction: pg.PoolClient,
  staffId: string,
  startsAt: Date,
  endsAt: Date,
): Promise<void> {
  const { rows } = await transaction.query<{ within_hours: boolean; blocked: boolean }>(
    `WITH local AS (
       SELECT $2::timestamptz AT TIME ZONE s.time_zone AS starts, $3::timestamptz AT TIME ZONE s.time_zone AS ends
       FROM staff s WHERE s.id = $1
     )
     SELECT
       EXISTS (SELECT 1 FROM weekly_schedules w, local
               WHERE w.staff_id = $1 AND w.weekday = extract(dow FROM local.starts)
                 AND local.starts >= local.starts::date + w.starts_at
                 AND local.ends <= local.starts::date + w.ends_at) AS within_hours,
       EXISTS (SELECT 1 FROM external_busy_blocks b
               WHERE b.staff_id = $1 AND tstzrange(b.starts_at, b.ends_at) && tstzrange($2, $3)) AS blocked`,
    [staffId, startsAt, endsAt],
  )
  const { within_hours, blocked } = rows[0]!
  if (within_hours && !blocked) return
  const why = blocked ? 'is blocked in their external calendar' : 'is outside their working hours'
  throw new BookingDemoError(
    'BOOKING_ERR_TIME_NOT_OFFERED',
    `${startsAt.toISOString()}..${endsAt.toISOString()} ${why} (staff ${staffId})`,
    { details: { staffId, start: startsAt.toISOString(), end: endsAt.toISOString() } },
  )
}

import type { Queryable } from '../db/queryable.js'
import { BookingDemoError } from '../errors.js'
import { freeSlots, type Interval } from './free-slots.js'

export interface AvailabilityQuery {
  staffId: string
  serviceId: string
  /** A calendar day in the staff member's time zone, `YYYY-MM-DD`. */
  date: string
}

/** Free slots of one staff member for one service on one day, ready to cache and to send as JSON. */
export interface Availability extends AvailabilityQuery {
  tenantId: string
  timeZone: string
  slotMinutes: number
  slots: { startsAt: string; endsAt: string }[]
}

interface DayRow {
  tenant_id: string
  time_zone: string
  duration_minutes: number
  windows: { start: string; end: string }[]
  busy: { start: string; end: string }[]
}

/**
 * Reads the day's working windows, confirmed bookings and external busy blocks in one statement (one
 * snapshot) and computes the free slots. The wall-clock schedule becomes instants in SQL, where the time
 * zone rules, daylight saving included, live.
 */
export async function loadAvailability(db: Queryable, query: AvailabilityQuery): Promise<Availability> {
  const { rows } = await db.query<DayRow>(
    `WITH day AS (
       SELECT s.id AS staff_id, s.tenant_id, s.time_zone, v.duration_minutes,
              ($3::date)::timestamp AT TIME ZONE s.time_zone AS day_start,
              ($3::date + 1)::timestamp AT TIME ZONE s.time_zone AS day_end
       FROM staff s JOIN services v ON v.tenant_id = s.tenant_id
       WHERE s.id = $1 AND v.id = $2
     )
     SELECT day.tenant_id, day.time_zone, day.duration_minutes,
       coalesce((SELECT json_agg(json_build_object(
                  'start', ($3::date + w.starts_at) AT TIME ZONE day.time_zone,
                  'end', ($3::date + w.ends_at) AT TIME ZONE day.time_zone))
                 FROM weekly_schedules w
                 WHERE w.staff_id = day.staff_id AND w.weekday = extract(dow FROM $3::date)), '[]') AS windows,
       coalesce((SELECT json_agg(json_build_object('start', b.starts_at, 'end', b.ends_at))
                 FROM (SELECT starts_at, ends_at FROM bookings
                       WHERE staff_id = day.staff_id AND status = 'confirmed'
                         AND tstzrange(starts_at, ends_at) && tstzrange(day.day_start, day.day_end)
                       UNION ALL
                       SELECT starts_at, ends_at FROM external_busy_blocks
                       WHERE staff_id = day.staff_id
                         AND tstzrange(starts_at, ends_at) && tstzrange(day.day_start, day.day_end)) b), '[]') AS busy
     FROM day`,
    [query.staffId, query.serviceId, query.date],
  )
  const day = rows[0]
  if (!day) {
    throw new BookingDemoError(
      'BOOKING_ERR_NOT_FOUND',
      `no staff ${query.staffId} offering service ${query.serviceId} in the same tenant`,
    )
  }
  const slots = freeSlots({
    windows: day.windows.map(toInterval),
    busy: day.busy.map(toInterval),
    slotMinutes: day.duration_minutes,
  })
  return {
    ...query,
    tenantId: day.tenant_id,
    timeZone: day.time_zone,
    slotMinutes: day.duration_minutes,
    slots: slots.map((slot) => ({ startsAt: slot.start.toISOString(), endsAt: slot.end.toISOString() })),
  }
}

function toInterval(span: { start: string; end: string }): Interval {
  return { start: new Date(span.start), end: new Date(span.end) }
}

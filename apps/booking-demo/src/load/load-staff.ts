import type pg from 'pg'
import { withTransaction } from '../db/transaction.js'
import { demoIds } from '../seed/seed-demo-data.js'

/** Zones the load's staff work in, in turn: a booking's day is the staff member's local day. */
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Europe/London']

/** The id of load staff member `index` (1-based): fixed, so seeding twice changes nothing. */
export function loadStaffId(index: number): string {
  return `00000000-0000-4000-8000-${(0x1000 + index).toString(16).padStart(12, '0')}`
}

/**
 * Adds `count` staff members to the demo tenant for the load command, each with the demo's weekday hours
 * (09:00-12:00, 13:00-17:00 local) and, with `calendars`, a calendar of their own on the CalDAV server (without,
 * their bookings skip the external calendar step). Safe to run again.
 */
export async function seedLoadStaff(pool: pg.Pool, count: number, calendars: boolean): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => loadStaffId(index + 1))
  await withTransaction(pool, async (transaction) => {
    await transaction.query(
      `INSERT INTO staff (id, tenant_id, name, time_zone, external_calendar_id)
       SELECT id, $1, 'Load ' || n, zone, CASE WHEN $4 THEN 'load-' || n || '@calendar.example' END
       FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS s (id, zone, n)
       ON CONFLICT (id) DO NOTHING`,
      [demoIds.tenant, ids, ids.map((_, index) => ZONES[index % ZONES.length]!), calendars],
    )
    await transaction.query(
      `INSERT INTO weekly_schedules (tenant_id, staff_id, weekday, starts_at, ends_at)
       SELECT $1, s.id, d.weekday, h.starts_at, h.ends_at
       FROM unnest($2::uuid[]) AS s (id)
       CROSS JOIN generate_series(1, 5) AS d (weekday)
       CROSS JOIN (VALUES (time '09:00', time '12:00'), (time '13:00', time '17:00')) AS h (starts_at, ends_at)
       WHERE NOT EXISTS (SELECT 1 FROM weekly_schedules w WHERE w.staff_id = s.id)`,
      [demoIds.tenant, ids],
    )
  })
  return ids
}

import type pg from 'pg'
import { withTransaction } from '../db/transaction.js'

/** Fixed ids, so the scenario and the tests can name what the seed made, and seeding twice changes nothing. */
export const demoIds = {
  tenant: '00000000-0000-4000-8000-000000000001',
  staff: {
    ada: '00000000-0000-4000-8000-000000000101',
    grace: '00000000-0000-4000-8000-000000000102',
  },
  services: {
    consultation: '00000000-0000-4000-8000-000000000201',
    treatment: '00000000-0000-4000-8000-000000000202',
  },
  calendars: {
    ada: 'ada@calendar.example',
    grace: 'grace@calendar.example',
  },
} as const

/**
 * One tenant with two staff members in different time zones, a 30- and a 60-minute service, and weekday
 * hours of 09:00-12:00 and 13:00-17:00 (Grace works no Fridays). Safe to run again.
 */
export async function seedDemoData(pool: pg.Pool): Promise<void> {
  await withTransaction(pool, async (transaction) => {
    await transaction.query(
      `INSERT INTO tenants (id, name) VALUES ($1, 'Northside Clinic') ON CONFLICT (id) DO NOTHING`,
      [demoIds.tenant],
    )
    await transaction.query(
      `INSERT INTO staff (id, tenant_id, name, time_zone, external_calendar_id) VALUES
         ($2, $1, 'Ada', 'Europe/Berlin', $4),
         ($3, $1, 'Grace', 'America/New_York', $5)
       ON CONFLICT (id) DO NOTHING`,
      [
        demoIds.tenant,
        demoIds.staff.ada,
        demoIds.staff.grace,
        demoIds.calendars.ada,
        demoIds.calendars.grace,
      ],
    )
    await transaction.query(
      `INSERT INTO services (id, tenant_id, name, duration_minutes) VALUES
         ($2, $1, 'Consultation', 30),
         ($3, $1, 'Treatment', 60)
       ON CONFLICT (id) DO NOTHING`,
      [demoIds.tenant, demoIds.services.consultation, demoIds.services.treatment],
    )
    // Schedules have no natural key, so they are only written for staff that have none yet.
    await transaction.query(
      `INSERT INTO weekly_schedules (tenant_id, staff_id, weekday, starts_at, ends_at)
       SELECT $1, s.staff_id, d.weekday, h.starts_at, h.ends_at
       FROM (VALUES ($2::uuid, 5), ($3::uuid, 4)) AS s (staff_id, last_weekday)
       CROSS JOIN generate_series(1, 5) AS d (weekday)
       CROSS JOIN (VALUES (time '09:00', time '12:00'), (time '13:00', time '17:00')) AS h (starts_at, ends_at)
       WHERE d.weekday <= s.last_weekday
         AND NOT EXISTS (SELECT 1 FROM weekly_schedules w WHERE w.staff_id = s.staff_id)`,
      [demoIds.tenant, demoIds.staff.ada, demoIds.staff.grace],
    )
  })
}

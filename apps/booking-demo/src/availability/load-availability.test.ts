import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { loadAvailability } from './load-availability.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase('availability')
  await seedDemoData(db.pool)
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('TRUNCATE bookings, external_busy_blocks')
})

const ada = { staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment }
// A Monday in winter (Berlin is UTC+1) and one in summer (UTC+2).
const winterMonday = '2026-01-12'
const summerMonday = '2026-07-13'

async function slotStarts(date: string, query = ada): Promise<string[]> {
  const availability = await loadAvailability(db.pool, { ...query, date })
  return availability.slots.map((slot) => slot.startsAt)
}

async function book(startsAt: string, endsAt: string, status = 'confirmed'): Promise<void> {
  await db.pool.query(
    `INSERT INTO bookings (id, tenant_id, staff_id, service_id, customer_email, starts_at, ends_at, status)
     VALUES (gen_random_uuid(), $1, $2, $3, 'pat@example.com', $4, $5, $6)`,
    [demoIds.tenant, ada.staffId, ada.serviceId, startsAt, endsAt, status],
  )
}

describe('availability of a staff member for a service on a day', () => {
  it("turns the weekly schedule into slots in the staff member's time zone", async () => {
    expect(await slotStarts(winterMonday)).toEqual([
      '2026-01-12T08:00:00.000Z',
      '2026-01-12T09:00:00.000Z',
      '2026-01-12T10:00:00.000Z',
      '2026-01-12T12:00:00.000Z',
      '2026-01-12T13:00:00.000Z',
      '2026-01-12T14:00:00.000Z',
      '2026-01-12T15:00:00.000Z',
    ])
    // 09:00 in Berlin is an hour earlier in UTC once daylight saving time has begun.
    expect((await slotStarts(summerMonday))[0]).toBe('2026-07-13T07:00:00.000Z')
  })

  it("uses the service's length as the slot length", async () => {
    const availability = await loadAvailability(db.pool, {
      staffId: demoIds.staff.ada,
      serviceId: demoIds.services.consultation,
      date: winterMonday,
    })
    expect(availability.slotMinutes).toBe(30)
    expect(availability.slots).toHaveLength(14)
    expect(availability.slots[0]).toEqual({
      startsAt: '2026-01-12T08:00:00.000Z',
      endsAt: '2026-01-12T08:30:00.000Z',
    })
  })

  it('is empty on a day without working hours', async () => {
    expect(await slotStarts('2026-01-11')).toEqual([])
  })

  it('leaves out slots overlapping a confirmed booking, but not a cancelled one', async () => {
    await book('2026-01-12T09:30:00Z', '2026-01-12T10:00:00Z')
    await book('2026-01-12T13:00:00Z', '2026-01-12T14:00:00Z', 'cancelled')
    const free = await slotStarts(winterMonday)
    expect(free).not.toContain('2026-01-12T09:00:00.000Z')
    expect(free).toContain('2026-01-12T13:00:00.000Z')
    expect(free).toHaveLength(6)
  })

  it('leaves out slots overlapping an external busy block, including one that spans midnight', async () => {
    await db.pool.query(
      `INSERT INTO external_busy_blocks (calendar_id, event_id, staff_id, starts_at, ends_at) VALUES
         ($1, 'dentist', $2, '2026-01-12T14:30:00Z', '2026-01-12T15:15:00Z'),
         ($1, 'night-shift', $2, '2026-01-11T20:00:00Z', '2026-01-12T08:30:00Z')`,
      [demoIds.calendars.ada, ada.staffId],
    )
    expect(await slotStarts(winterMonday)).toEqual([
      '2026-01-12T09:00:00.000Z',
      '2026-01-12T10:00:00.000Z',
      '2026-01-12T12:00:00.000Z',
      '2026-01-12T13:00:00.000Z',
    ])
  })

  it('refuses a service of another tenant with a not-found error', async () => {
    await db.pool.query(
      `INSERT INTO tenants (id, name) VALUES ('00000000-0000-4000-8000-00000000ffff', 'Other')`,
    )
    await db.pool.query(
      `INSERT INTO services (id, tenant_id, name, duration_minutes)
       VALUES ('00000000-0000-4000-8000-00000000fff1', '00000000-0000-4000-8000-00000000ffff', 'Other', 30)`,
    )
    await expect(
      loadAvailability(db.pool, {
        staffId: demoIds.staff.ada,
        serviceId: '00000000-0000-4000-8000-00000000fff1',
        date: winterMonday,
      }),
    ).rejects.toMatchObject({ code: 'BOOKING_ERR_NOT_FOUND' })
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAvailability } from '../availability/load-availability.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { demoIds, seedDemoData } from './seed-demo-data.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase('seed')
})
afterAll(() => db?.drop())

async function counts(): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM tenants) AS tenants, (SELECT count(*)::int FROM staff) AS staff,
            (SELECT count(*)::int FROM services) AS services, (SELECT count(*)::int FROM weekly_schedules) AS schedules`,
  )
  return rows[0]!
}

describe('the demo seed', () => {
  it('makes a tenant whose staff can be booked on a weekday, and changes nothing when run again', async () => {
    await seedDemoData(db.pool)
    const first = await counts()
    expect(first).toEqual({ tenants: 1, staff: 2, services: 2, schedules: 18 })
    await seedDemoData(db.pool)
    expect(await counts()).toEqual(first)
    const grace = await loadAvailability(db.pool, {
      staffId: demoIds.staff.grace,
      serviceId: demoIds.services.consultation,
      date: '2026-01-13',
    })
    expect(grace.timeZone).toBe('America/New_York')
    expect(grace.slots[0]?.startsAt).toBe('2026-01-13T14:00:00.000Z')
  })
})

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CalendarUnavailableError } from '../errors.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { SimulatedCalendarProvider } from './simulated-calendar-provider.js'
import { syncCalendar } from './sync-calendar.js'

let db: TestDatabase
let provider: SimulatedCalendarProvider
const calendar = demoIds.calendars.ada
beforeAll(async () => {
  db = await createTestDatabase('calendar')
  await seedDemoData(db.pool)
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query(
    'TRUNCATE external_busy_blocks, external_calendar_sync_state, simulated_calendar.events, simulated_calendar.calendars',
  )
  provider = new SimulatedCalendarProvider(db.pool)
})

const hours = (from: number, to: number) => ({
  startsAt: new Date(Date.UTC(2026, 0, 12, from)),
  endsAt: new Date(Date.UTC(2026, 0, 12, to)),
})

async function busyBlocks(): Promise<string[]> {
  const { rows } = await db.pool.query<{ event_id: string; starts_at: Date; ends_at: Date }>(
    'SELECT event_id, starts_at, ends_at FROM external_busy_blocks WHERE calendar_id = $1 ORDER BY event_id',
    [calendar],
  )
  return rows.map((row) => `${row.event_id} ${row.starts_at.getUTCHours()}-${row.ends_at.getUTCHours()}`)
}

async function storedToken(): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ sync_token: string }>(
    'SELECT sync_token FROM external_calendar_sync_state WHERE calendar_id = $1',
    [calendar],
  )
  return rows[0]?.sync_token
}

describe('the simulated calendar provider', () => {
  it('lists the whole calendar without a token and only later changes with the token it returned', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    const full = await provider.listChanges(calendar, null)
    expect(full).toMatchObject({ fullSync: true, events: [{ id: 'gym', cancelled: false }] })
    await provider.putEvent(calendar, { id: 'lunch', ...hours(11, 12) })
    await provider.deleteEvent(calendar, 'gym')
    const since = await provider.listChanges(calendar, full.nextSyncToken)
    expect(since.fullSync).toBe(false)
    expect(since.events.map((event) => [event.id, event.cancelled])).toEqual([
      ['lunch', false],
      ['gym', true],
    ])
    expect((await provider.listChanges(calendar, since.nextSyncToken)).events).toEqual([])
  })

  it('refuses a token it did not issue', async () => {
    await expect(provider.listChanges(calendar, 'not-a-token')).rejects.toMatchObject({
      code: 'BOOKING_ERR_INVALID_INPUT',
    })
  })
})

describe('syncing an external calendar', () => {
  it('copies the events into busy blocks and stores the token with them', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    await provider.putEvent(calendar, { id: 'dentist', ...hours(14, 15) })
    const result = await syncCalendar(db.pool, provider, calendar)
    expect(result).toMatchObject({ status: 'applied', staffId: demoIds.staff.ada, applied: 2 })
    expect(await busyBlocks()).toEqual(['dentist 14-15', 'gym 7-8'])
    expect(await storedToken()).toBe(result.status === 'applied' ? result.syncToken : 'unreachable')
  })

  it('applies each change once: a second sync with the stored token finds nothing new', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    await syncCalendar(db.pool, provider, calendar)
    expect(await syncCalendar(db.pool, provider, calendar)).toMatchObject({ status: 'applied', applied: 0 })
    expect(await busyBlocks()).toEqual(['gym 7-8'])
  })

  it('applies moves and deletions made after the last sync', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    await provider.putEvent(calendar, { id: 'dentist', ...hours(14, 15) })
    await syncCalendar(db.pool, provider, calendar)
    await provider.putEvent(calendar, { id: 'dentist', ...hours(16, 17) })
    await provider.deleteEvent(calendar, 'gym')
    expect(await syncCalendar(db.pool, provider, calendar)).toMatchObject({ applied: 2 })
    expect(await busyBlocks()).toEqual(['dentist 16-17'])
  })

  it('changes nothing when the provider fails, and applies the changes when retried', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    provider.failTransiently(1)
    await expect(syncCalendar(db.pool, provider, calendar)).rejects.toBeInstanceOf(CalendarUnavailableError)
    expect(await busyBlocks()).toEqual([])
    expect(await storedToken()).toBeUndefined()
    expect(await syncCalendar(db.pool, provider, calendar)).toMatchObject({ status: 'applied', applied: 1 })
    expect(await busyBlocks()).toEqual(['gym 7-8'])
  })

  it('rolls back the blocks and the token together when one change cannot be applied', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    await syncCalendar(db.pool, provider, calendar)
    const token = await storedToken()
    await provider.putEvent(calendar, { id: 'lunch', ...hours(11, 12) })
    // The provider hands over an event that ends before it starts; the busy blocks' CHECK refuses it.
    await provider.putEvent(calendar, { id: 'broken', ...hours(18, 17) })
    await expect(syncCalendar(db.pool, provider, calendar)).rejects.toMatchObject({ code: '23514' })
    expect(await busyBlocks()).toEqual(['gym 7-8'])
    expect(await storedToken()).toBe(token)
  })

  it('applies the changes once when two syncs run at the same time', async () => {
    await provider.putEvent(calendar, { id: 'gym', ...hours(7, 8) })
    await provider.putEvent(calendar, { id: 'dentist', ...hours(14, 15) })
    const results = await Promise.all([1, 2, 3].map(() => syncCalendar(db.pool, provider, calendar)))
    const applied = results.reduce(
      (sum, result) => sum + (result.status === 'applied' ? result.applied : 0),
      0,
    )
    expect(applied).toBe(2)
    expect(await busyBlocks()).toEqual(['dentist 14-15', 'gym 7-8'])
  })

  it('skips events the app wrote for its own bookings, which already block their time', async () => {
    await provider.putEvent(calendar, {
      id: 'booking-1',
      bookingId: '22222222-2222-4222-8222-222222222222',
      ...hours(9, 10),
    })
    expect(await syncCalendar(db.pool, provider, calendar)).toMatchObject({ applied: 0 })
    expect(await busyBlocks()).toEqual([])
  })

  it('refuses a calendar no staff member has', async () => {
    await expect(syncCalendar(db.pool, provider, 'nobody@calendar.example')).rejects.toMatchObject({
      code: 'BOOKING_ERR_NOT_FOUND',
    })
  })
})

import { type RadicaleServer, startRadicale } from '@cachesaga/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { availabilityDayTag, targetForStaffEdit } from '../cache/availability-mapping.js'
import { calendarHome } from '../demo/demo-calendar.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { CalDavCalendarProvider } from './caldav/caldav-calendar-provider.js'
import { type Appointment, OtherCalendarApp } from './caldav/other-calendar-app.js'
import type { CalendarProvider } from './calendar-provider.js'
import { ensureStaffCalendars } from './ensure-staff-calendars.js'
import { syncCalendar } from './sync-calendar.js'

let db: TestDatabase
let radicale: RadicaleServer
let provider: CalDavCalendarProvider
let otherApp: OtherCalendarApp
const calendar = demoIds.calendars.ada
const ada = demoIds.staff.ada
/** Syncs run "now" in early January 2026, so the appointments below fall inside the busy window. */
const now = new Date('2026-01-05T00:00:00Z')
beforeAll(async () => {
  db = await createTestDatabase('calendar')
  await seedDemoData(db.pool)
  radicale = await startRadicale()
})
afterAll(async () => {
  await radicale?.stop()
  await db?.drop()
})
/** Each test gets an empty calendar: a fresh home on the same server, and no synced state. */
let home = 0
beforeEach(async () => {
  await db.pool.query('TRUNCATE external_busy_blocks, external_calendar_sync_state')
  const url = calendarHome(radicale, `user${++home}`)
  provider = new CalDavCalendarProvider({ url })
  otherApp = new OtherCalendarApp(url)
  await ensureStaffCalendars(db.pool, provider)
})

/** An appointment in Ada's zone (Berlin, UTC+1 in January) on Monday 12 January 2026. */
const at = (name: string, from: string, to: string, rrule?: string): Appointment => ({
  name,
  start: `2026-01-12T${from}`,
  end: `2026-01-12T${to}`,
  timeZone: 'Europe/Berlin',
  ...(rrule === undefined ? {} : { rrule }),
})
const sync = (p: CalendarProvider = provider, when = now) => syncCalendar(db.pool, p, calendar, when)

async function busyBlocks(): Promise<string[]> {
  const { rows } = await db.pool.query<{ event_id: string; starts_at: Date; ends_at: Date }>(
    'SELECT event_id, starts_at, ends_at FROM external_busy_blocks WHERE calendar_id = $1 ORDER BY event_id, starts_at',
    [calendar],
  )
  return rows.map(
    (row) =>
      `${row.event_id} ${row.starts_at.toISOString().slice(5, 16)}-${row.ends_at.toISOString().slice(11, 16)}`,
  )
}

async function storedToken(): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ sync_token: string }>(
    'SELECT sync_token FROM external_calendar_sync_state WHERE calendar_id = $1',
    [calendar],
  )
  return rows[0]?.sync_token
}

describe('syncing a CalDAV calendar', () => {
  it('copies the events into busy blocks, times from their zone, and stores the token with them', async () => {
    await otherApp.put(calendar, at('gym', '07:00', '08:00'))
    await otherApp.put(calendar, at('dentist', '14:00', '15:00'))
    const result = await sync()
    expect(result).toMatchObject({ status: 'applied', staffId: ada, fullSync: 'first-sync', applied: 2 })
    expect(await busyBlocks()).toEqual(['dentist 01-12T13:00-14:00', 'gym 01-12T06:00-07:00'])
    expect(await storedToken()).toBe(result.status === 'applied' ? result.syncToken : 'unreachable')
    expect(result.status === 'applied' && result.invalidate).toEqual(targetForStaffEdit(demoIds.tenant, ada))
  })

  it('reads only what changed with the stored token: one REPORT, nothing to apply, nothing to invalidate', async () => {
    await otherApp.put(calendar, at('gym', '07:00', '08:00'))
    await sync()
    const sent = provider.requestsSent
    expect(await sync()).toMatchObject({ status: 'applied', fullSync: null, applied: 0, invalidate: null })
    expect(provider.requestsSent - sent).toBe(1)
    expect(await busyBlocks()).toEqual(['gym 01-12T06:00-07:00'])
  })

  it('applies a moved and a deleted event, and invalidates only the days they touched', async () => {
    await otherApp.put(calendar, at('gym', '07:00', '08:00'))
    await otherApp.put(calendar, at('dentist', '14:00', '15:00'))
    await sync()
    await otherApp.put(calendar, {
      ...at('dentist', '16:00', '17:00'),
      start: '2026-01-13T16:00',
      end: '2026-01-13T17:00',
    })
    await otherApp.delete(calendar, 'gym')
    const result = await sync()
    expect(result).toMatchObject({ status: 'applied', fullSync: null, applied: 2 })
    expect(await busyBlocks()).toEqual(['dentist 01-13T15:00-16:00'])
    expect(result.status === 'applied' && result.invalidate?.tags?.sort()).toEqual([
      availabilityDayTag(ada, '2026-01-12'),
      availabilityDayTag(ada, '2026-01-13'),
      `schedule:staff:${ada}`,
    ])
  })

  it('expands a recurring appointment over the window, one block per occurrence, replaced when it changes', async () => {
    await otherApp.put(calendar, at('standup', '09:00', '09:15', 'FREQ=WEEKLY;COUNT=3'))
    await sync()
    expect(await busyBlocks()).toEqual([
      'standup 01-12T08:00-08:15',
      'standup 01-19T08:00-08:15',
      'standup 01-26T08:00-08:15',
    ])
    await otherApp.put(calendar, at('standup', '10:00', '10:15', 'FREQ=WEEKLY;COUNT=2'))
    await sync()
    expect(await busyBlocks()).toEqual(['standup 01-12T09:00-09:15', 'standup 01-19T09:00-09:15'])
  })

  it('falls back to a full resync when the server refused the token, replacing every block', async () => {
    await otherApp.put(calendar, at('gym', '07:00', '08:00'))
    await otherApp.put(calendar, at('dentist', '14:00', '15:00'))
    await sync()
    const token = await storedToken()
    await otherApp.delete(calendar, 'gym')
    await otherApp.put(calendar, at('lunch', '12:00', '13:00'))
    radicale.forgetSyncTokens()
    const sent = provider.requestsSent
    const result = await sync()
    expect(result).toMatchObject({ status: 'applied', fullSync: 'token-rejected' })
    // The refused REPORT, then the full one.
    expect(provider.requestsSent - sent).toBe(2)
    expect(await busyBlocks()).toEqual(['dentist 01-12T13:00-14:00', 'lunch 01-12T11:00-12:00'])
    expect(await storedToken()).not.toBe(token)
    expect(await sync()).toMatchObject({ fullSync: null, applied: 0 })
  })

  it('reads the whole calendar again once the window moved past the last expansion', async () => {
    await otherApp.put(calendar, at('standup', '09:00', '09:15', 'FREQ=MONTHLY'))
    await sync()
    const lastBlock = async () =>
      (await db.pool.query<{ last: Date }>('SELECT max(starts_at) AS last FROM external_busy_blocks'))
        .rows[0]!.last
    expect((await lastBlock()).toISOString()).toBe('2026-12-12T08:00:00.000Z')
    const monthLater = new Date(now.getTime() + 31 * 86_400_000)
    expect(await sync(provider, monthLater)).toMatchObject({ fullSync: 'window-moved' })
    expect((await lastBlock()).toISOString()).toBe('2027-01-12T08:00:00.000Z')
    expect(await sync(provider, monthLater)).toMatchObject({ fullSync: null })
  })

  it('changes nothing while the server is down, and applies the changes once it is back', async () => {
    await otherApp.put(calendar, at('gym', '07:00', '08:00'))
    await sync()
    const token = await storedToken()
    await otherApp.put(calendar, at('lunch', '12:00', '13:00'))
    await radicale.kill()
    try {
      await expect(sync()).rejects.toMatchObject({ code: 'BOOKING_ERR_CALENDAR_UNAVAILABLE' })
      expect(await busyBlocks()).toEqual(['gym 01-12T06:00-07:00'])
      expect(await storedToken()).toBe(token)
    } finally {
      await radicale.restart()
    }
    expect(await sync()).toMatchObject({ status: 'applied', fullSync: null, applied: 1 })
    expect(await busyBlocks()).toEqual(['gym 01-12T06:00-07:00', 'lunch 01-12T11:00-12:00'])
  })

  it('applies the changes once when three syncs run at the same time', async () => {
    await otherApp.put(calendar, at('gym', '07:00', '08:00'))
    await otherApp.put(calendar, at('dentist', '14:00', '15:00'))
    const results = await Promise.all([1, 2, 3].map(() => sync()))
    // One applies both events; the others lost the race (superseded) or started after it (nothing new).
    const applied = results.reduce(
      (sum, result) => sum + (result.status === 'applied' ? result.applied : 0),
      0,
    )
    expect(applied).toBe(2)
    expect(await busyBlocks()).toEqual(['dentist 01-12T13:00-14:00', 'gym 01-12T06:00-07:00'])
  })

  it('skips the events the app wrote for its own bookings, whose time is in bookings already', async () => {
    await provider.putEvent(calendar, {
      id: 'booking-1',
      bookingId: '22222222-2222-4222-8222-222222222222',
      startsAt: new Date('2026-01-12T09:00:00Z'),
      endsAt: new Date('2026-01-12T10:00:00Z'),
    })
    expect(await sync()).toMatchObject({ status: 'applied', applied: 1 })
    expect(await busyBlocks()).toEqual([])
  })

  it('refuses a calendar no staff member has', async () => {
    await expect(syncCalendar(db.pool, provider, 'nobody@calendar.example')).rejects.toMatchObject({
      code: 'BOOKING_ERR_NOT_FOUND',
    })
  })
})

import {
  type FaultProxy,
  getFreePort,
  type RadicaleServer,
  startFaultProxy,
  startRadicale,
} from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendarHome } from '../../demo/demo-calendar.js'
import type { CalendarChanges } from '../calendar-provider.js'
import { CalDavCalendarProvider } from './caldav-calendar-provider.js'
import { OtherCalendarApp } from './other-calendar-app.js'

let radicale: RadicaleServer
let provider: CalDavCalendarProvider
let otherApp: OtherCalendarApp
beforeAll(async () => {
  radicale = await startRadicale()
  provider = new CalDavCalendarProvider({ url: calendarHome(radicale), timeout: '2s' })
  otherApp = new OtherCalendarApp(calendarHome(radicale))
})
afterAll(() => radicale?.stop())

const read = {
  window: { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') },
  timeZone: 'Europe/Berlin',
}
const summary = (changes: CalendarChanges) =>
  changes.events
    .map(
      (event) =>
        `${event.id}${event.bookingId ? ' (booking)' : ''}: ${event.busy.map((b) => b.startsAt.toISOString().slice(11, 16)).join(',') || 'gone'}`,
    )
    .sort()
const booking = (bookingId: string, hour: number) => ({
  id: `booking-${bookingId}`,
  bookingId,
  startsAt: new Date(Date.UTC(2026, 0, 12, hour)),
  endsAt: new Date(Date.UTC(2026, 0, 12, hour + 1)),
})

describe('the CalDAV provider against Radicale', () => {
  it('creates a calendar once; creating it again changes nothing', async () => {
    await provider.ensureCalendar('ada@calendar.example')
    await provider.ensureCalendar('ada@calendar.example')
    const changes = await provider.listChanges('ada@calendar.example', null, read)
    expect(changes).toMatchObject({ fullSync: true, events: [], unreadable: [] })
    expect(changes.nextSyncToken).toMatch(/^http:\/\/radicale\.org\/ns\/sync\//)
  })

  it("writes, moves and deletes the booking's event, and reads each change back with the token", async () => {
    const calendar = 'moves@calendar.example'
    await provider.ensureCalendar(calendar)
    const start = await provider.listChanges(calendar, null, read)
    await provider.putEvent(calendar, booking('b1', 9))
    await otherApp.put(calendar, {
      name: 'gym',
      start: '2026-01-12T07:00',
      end: '2026-01-12T08:00',
      timeZone: 'Europe/Berlin',
    })
    const created = await provider.listChanges(calendar, start.nextSyncToken, read)
    expect(created.fullSync).toBe(false)
    expect(summary(created)).toEqual(['booking-b1 (booking): 09:00', 'gym: 06:00'])

    await provider.putEvent(calendar, booking('b1', 14)) // a move: same id, new time
    await provider.putEvent(calendar, booking('b1', 14)) // a retried write: nothing new
    const moved = await provider.listChanges(calendar, created.nextSyncToken, read)
    expect(summary(moved)).toEqual(['booking-b1 (booking): 14:00'])

    await provider.deleteEvent(calendar, 'booking-b1')
    await provider.deleteEvent(calendar, 'booking-b1') // already gone: fine
    await otherApp.delete(calendar, 'gym')
    const deleted = await provider.listChanges(calendar, moved.nextSyncToken, read)
    expect(summary(deleted)).toEqual(['booking-b1: gone', 'gym: gone'])
    expect((await provider.listChanges(calendar, deleted.nextSyncToken, read)).events).toEqual([])
    expect((await provider.listChanges(calendar, null, read)).events).toEqual([])
  })

  it('names an event another app wrote that does not parse, instead of failing the read', async () => {
    const calendar = 'broken@calendar.example'
    await provider.ensureCalendar(calendar)
    await otherApp.putIcs(
      calendar,
      'odd',
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:odd\r\nDTSTART;TZID=Mars/Olympus:20260112T090000\r\nDTEND;TZID=Mars/Olympus:20260112T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
    )
    const changes = await provider.listChanges(calendar, null, read)
    expect(changes).toMatchObject({ unreadable: ['odd'], events: [{ id: 'odd', busy: [] }] })
  })

  it('says so, with its own code, when the server refuses the token', async () => {
    const calendar = 'tokens@calendar.example'
    await provider.ensureCalendar(calendar)
    const { nextSyncToken } = await provider.listChanges(calendar, null, read)
    await provider.putEvent(calendar, booking('b2', 10))
    radicale.forgetSyncTokens()
    await expect(provider.listChanges(calendar, nextSyncToken, read)).rejects.toMatchObject({
      code: 'BOOKING_ERR_CALENDAR_SYNC_TOKEN_REJECTED',
      details: { status: 403 },
    })
  })

  it('refuses, without calling it unavailable, a calendar the server does not have', async () => {
    await expect(provider.listChanges('nobody@calendar.example', null, read)).rejects.toMatchObject({
      code: 'BOOKING_ERR_CALENDAR_REFUSED',
    })
  })

  it('counts the requests it sends: one REPORT per read', async () => {
    const before = provider.requestsSent
    await provider.listChanges('ada@calendar.example', null, read)
    expect(provider.requestsSent - before).toBe(1)
  })
})

describe('the CalDAV provider when the server is away', () => {
  let proxy: FaultProxy
  let behindProxy: CalDavCalendarProvider
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: radicale })
    behindProxy = new CalDavCalendarProvider({
      url: `http://demo:s3cret@127.0.0.1:${proxy.port}/demo/`,
      timeout: 300,
    })
  })
  afterAll(() => proxy?.close())

  it('gives up after the deadline on a server that does not answer, naming it without the password', async () => {
    proxy.blackhole(true)
    const started = performance.now()
    try {
      const error = await behindProxy
        .putEvent('ada@calendar.example', booking('b3', 11))
        .catch((e: unknown) => e)
      expect(error).toMatchObject({
        code: 'BOOKING_ERR_CALENDAR_UNAVAILABLE',
        details: { server: `http://demo:***@127.0.0.1:${proxy.port}/demo/`, method: 'PUT', timedOut: true },
      })
      expect(String((error as Error).message)).not.toContain('s3cret')
      expect(performance.now() - started).toBeLessThan(3_000)
    } finally {
      proxy.blackhole(false)
      proxy.resetAll()
    }
    await behindProxy.putEvent('ada@calendar.example', booking('b3', 11))
  })

  it('calls a server that is down unavailable, for the caller to retry', async () => {
    const port = await getFreePort()
    const down = new CalDavCalendarProvider({
      url: `http://demo:s3cret@127.0.0.1:${port}/demo/`,
      timeout: 300,
    })
    await expect(down.listChanges('ada@calendar.example', null, read)).rejects.toMatchObject({
      code: 'BOOKING_ERR_CALENDAR_UNAVAILABLE',
      message: expect.stringContaining('ECONNREFUSED'),
      details: { server: `http://demo:***@127.0.0.1:${port}/demo/`, timedOut: false },
    })
  })

  it('refuses options that do not parse, naming the field', () => {
    expect(() => new CalDavCalendarProvider({ url: 'ftp://x/' })).toThrow(/options\.url/)
    expect(() => new CalDavCalendarProvider({ url: 'http://x/', timeout: 'soon' })).toThrow(
      /options\.timeout/,
    )
  })
})

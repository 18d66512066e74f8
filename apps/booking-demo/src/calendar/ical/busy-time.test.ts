import { describe, expect, it } from 'vitest'
import { readBusyTime } from './busy-time.js'
import { wallTimeToInstant } from './wall-time.js'

const window = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-03-01T00:00:00Z') }
const options = { window, timeZone: 'America/New_York' }

/** An iCalendar document around the given lines (components or properties of one VEVENT). */
const calendar = (...components: string[][]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...components.flat(), 'END:VCALENDAR'].join('\r\n')
const vevent = (...lines: string[]) => [
  'BEGIN:VEVENT',
  'UID:e1',
  'DTSTAMP:20260101T000000Z',
  ...lines,
  'END:VEVENT',
]

const busy = (ics: string, readOptions = options) =>
  readBusyTime(ics, readOptions).busy.map(
    ({ startsAt, endsAt }) => `${startsAt.toISOString()} ${endsAt.toISOString()}`,
  )

describe('reading busy time from an iCalendar object', () => {
  it('reads UTC times as they are', () => {
    expect(busy(calendar(vevent('DTSTART:20260112T090000Z', 'DTEND:20260112T100000Z')))).toEqual([
      '2026-01-12T09:00:00.000Z 2026-01-12T10:00:00.000Z',
    ])
  })

  it('takes the zone from the VTIMEZONE the event carries, even one no zone database knows', () => {
    const vtimezone = [
      'BEGIN:VTIMEZONE',
      'TZID:Clinic Time',
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0530',
      'TZOFFSETTO:+0530',
      'END:STANDARD',
      'END:VTIMEZONE',
    ]
    const ics = calendar(
      vtimezone,
      vevent('DTSTART;TZID=Clinic Time:20260112T090000', 'DTEND;TZID=Clinic Time:20260112T100000'),
    )
    expect(busy(ics)).toEqual(['2026-01-12T03:30:00.000Z 2026-01-12T04:30:00.000Z'])
  })

  it("prefers the runtime's zone database for an IANA TZID over the VTIMEZONE the server generated for it", () => {
    const stale = [
      'BEGIN:VTIMEZONE',
      'TZID:Europe/Berlin',
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
    ].concat(['TZOFFSETFROM:+0530', 'TZOFFSETTO:+0530', 'END:STANDARD', 'END:VTIMEZONE'])
    const ics = calendar(
      stale,
      vevent('DTSTART;TZID=Europe/Berlin:20260112T090000', 'DTEND;TZID=Europe/Berlin:20260112T100000'),
    )
    expect(busy(ics)).toEqual(['2026-01-12T08:00:00.000Z 2026-01-12T09:00:00.000Z'])
  })

  it('reads a TZID without a VTIMEZONE as an IANA zone, daylight saving included', () => {
    const winter = calendar(
      vevent('DTSTART;TZID=Europe/Berlin:20260112T090000', 'DTEND;TZID=Europe/Berlin:20260112T100000'),
    )
    expect(busy(winter)).toEqual(['2026-01-12T08:00:00.000Z 2026-01-12T09:00:00.000Z'])
    const summer = calendar(
      vevent('DTSTART;TZID=Europe/Berlin:20260615T090000', 'DTEND;TZID=Europe/Berlin:20260615T100000'),
    )
    const summerWindow = { from: new Date('2026-06-01T00:00:00Z'), to: new Date('2026-07-01T00:00:00Z') }
    expect(busy(summer, { ...options, window: summerWindow })).toEqual([
      '2026-06-15T07:00:00.000Z 2026-06-15T08:00:00.000Z',
    ])
  })

  it("reads floating times and all-day events in the calendar owner's zone", () => {
    expect(busy(calendar(vevent('DTSTART:20260112T090000', 'DTEND:20260112T100000')))).toEqual([
      '2026-01-12T14:00:00.000Z 2026-01-12T15:00:00.000Z',
    ])
    expect(busy(calendar(vevent('DTSTART;VALUE=DATE:20260112')))).toEqual([
      '2026-01-12T05:00:00.000Z 2026-01-13T05:00:00.000Z',
    ])
    expect(busy(calendar(vevent('DTSTART;VALUE=DATE:20260112', 'DTEND;VALUE=DATE:20260114')))).toEqual([
      '2026-01-12T05:00:00.000Z 2026-01-14T05:00:00.000Z',
    ])
  })

  it('expands a recurring event inside the window: excluded dates, moved and cancelled instances', () => {
    const ics = calendar(
      vevent(
        'DTSTART;TZID=Europe/Berlin:20251229T090000',
        'DTEND;TZID=Europe/Berlin:20251229T100000',
        'RRULE:FREQ=WEEKLY',
        'EXDATE;TZID=Europe/Berlin:20260105T090000',
      ),
      vevent(
        'RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000',
        'DTSTART;TZID=Europe/Berlin:20260112T150000',
        'DTEND;TZID=Europe/Berlin:20260112T160000',
      ),
      vevent(
        'RECURRENCE-ID;TZID=Europe/Berlin:20260119T090000',
        'DTSTART;TZID=Europe/Berlin:20260119T090000',
        'DTEND;TZID=Europe/Berlin:20260119T100000',
        'STATUS:CANCELLED',
      ),
    )
    const found = busy(ics)
    // 29 Dec is before the window; 5 Jan excluded; 12 Jan moved; 19 Jan cancelled; then weekly to the window's end.
    expect(found.slice(0, 2)).toEqual([
      '2026-01-12T14:00:00.000Z 2026-01-12T15:00:00.000Z',
      '2026-01-26T08:00:00.000Z 2026-01-26T09:00:00.000Z',
    ])
    expect(found).toHaveLength(6)
    expect(found.at(-1)).toBe('2026-02-23T08:00:00.000Z 2026-02-23T09:00:00.000Z')
  })

  it('ends an endless rule at the window and a counted one at its count', () => {
    const daily = calendar(vevent('DTSTART:20260101T120000Z', 'DTEND:20260101T130000Z', 'RRULE:FREQ=DAILY'))
    expect(busy(daily)).toHaveLength(31 + 28)
    const counted = calendar(
      vevent('DTSTART:20260101T120000Z', 'DTEND:20260101T130000Z', 'RRULE:FREQ=DAILY;COUNT=3'),
    )
    expect(busy(counted)).toHaveLength(3)
  })

  it('finds no busy time in free, cancelled or zero-length events', () => {
    expect(
      busy(calendar(vevent('DTSTART:20260112T090000Z', 'DTEND:20260112T100000Z', 'TRANSP:TRANSPARENT'))),
    ).toEqual([])
    expect(
      busy(calendar(vevent('DTSTART:20260112T090000Z', 'DTEND:20260112T100000Z', 'STATUS:CANCELLED'))),
    ).toEqual([])
    expect(busy(calendar(vevent('DTSTART:20260112T090000Z')))).toEqual([])
  })

  it('recognises the booking id the app stamps on its own events', () => {
    const ics = calendar(
      vevent('DTSTART:20260112T090000Z', 'DTEND:20260112T100000Z', 'X-CACHESAGA-BOOKING-ID:b-1'),
    )
    expect(readBusyTime(ics, options).bookingId).toBe('b-1')
    expect(
      readBusyTime(calendar(vevent('DTSTART:20260112T090000Z', 'DTEND:20260112T100000Z')), options).bookingId,
    ).toBeNull()
  })

  it('throws on a document that does not parse', () => {
    expect(() => readBusyTime('BEGIN:VCALENDAR\r\nnot ical', options)).toThrow()
  })
})

describe('wall times in a zone', () => {
  it('lands a time skipped by the spring change after the gap and reads the repeated hour once', () => {
    const wall = (day: number, hour: number, minute = 0) => ({
      year: 2026,
      month: 3,
      day,
      hour,
      minute,
      second: 0,
    })
    expect(wallTimeToInstant(wall(29, 1, 30), 'Europe/Berlin').toISOString()).toBe('2026-03-29T00:30:00.000Z')
    expect(wallTimeToInstant(wall(29, 3), 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:00:00.000Z')
    expect(wallTimeToInstant(wall(29, 2, 30), 'Europe/Berlin').getTime()).toBeGreaterThan(
      wallTimeToInstant(wall(29, 1, 59), 'Europe/Berlin').getTime(),
    )
  })

  it('refuses a zone the runtime does not know', () => {
    expect(() =>
      wallTimeToInstant({ year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, 'Mars/Olympus'),
    ).toThrow(RangeError)
  })
})

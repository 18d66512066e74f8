import { describe, expect, it } from 'vitest'
import { availabilityDayTag } from './availability-mapping.js'
import { changeCapture, isoInstant } from './change-capture.js'

const booking = (startsAt: string, endsAt: string, timeZone = 'Europe/Berlin') => ({
  id: 'b1',
  staff_id: 'ada',
  service_id: 'treatment',
  starts_at: startsAt,
  ends_at: endsAt,
  time_zone: timeZone,
})

const change = (
  old: ReturnType<typeof booking> | undefined,
  next: ReturnType<typeof booking> | undefined,
) => ({
  id: '1',
  table: 'public.bookings',
  operation: old && next ? ('update' as const) : old ? ('delete' as const) : ('insert' as const),
  old,
  new: next,
  transaction: '1',
  changedAt: new Date(),
})

const dayTags = (target: { tags?: string[] } | undefined) =>
  (target?.tags ?? []).filter((tag) => tag.startsWith('availability:staff:'))

describe('what a captured booking row makes stale', () => {
  it("is the local days of the staff member's zone, whatever zone the writing session printed the times in", () => {
    // 23:30 in New York on 7 December, printed by a session in Berlin and by one in Kolkata.
    const fromBerlin = booking('2026-12-08 05:30:00+01', '2026-12-08 05:45:00+01', 'America/New_York')
    const fromKolkata = booking('2026-12-08 10:00:00+05:30', '2026-12-08 10:15:00+05:30', 'America/New_York')
    for (const row of [fromBerlin, fromKolkata]) {
      expect(dayTags(changeCapture.targetsOf(change(undefined, row)))).toEqual([
        availabilityDayTag('ada', '2026-12-07'),
      ])
    }
  })

  it('covers the day a booking left and the day it moved to', () => {
    const monday = booking('2026-12-07 08:00:00+00', '2026-12-07 09:00:00+00')
    const tuesday = booking('2026-12-08 08:00:00+00', '2026-12-08 09:00:00+00')
    expect(dayTags(changeCapture.targetsOf(change(monday, tuesday))).sort()).toEqual([
      availabilityDayTag('ada', '2026-12-07'),
      availabilityDayTag('ada', '2026-12-08'),
    ])
  })

  it('reads PostgreSQL text timestamps, fractions and half-hour offsets included, as ISO instants', () => {
    expect(isoInstant('2026-12-07 09:00:00+01')).toBe('2026-12-07T09:00:00+01:00')
    expect(isoInstant('2026-12-07 09:00:00.25+05:30')).toBe('2026-12-07T09:00:00.25+05:30')
    expect(new Date(isoInstant('2026-12-07 09:00:00.25+05:30')).toISOString()).toBe(
      '2026-12-07T03:30:00.250Z',
    )
  })
})

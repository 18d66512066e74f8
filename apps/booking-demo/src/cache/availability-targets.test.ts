import { describe, expect, it } from 'vitest'
import { localDate, targetForBookedTimes, targetForStaffEdit } from './availability-targets.js'

describe('what a booking makes stale', () => {
  it("is the availability of the staff member's local day, not the UTC day", () => {
    // 23:30 in New York on 7 December is already 8 December in UTC.
    expect(localDate('2026-12-08T04:30:00Z', 'America/New_York')).toBe('2026-12-07')
    expect(
      targetForBookedTimes('grace', 'America/New_York', [
        { startsAt: '2026-12-08T04:00:00Z', endsAt: '2026-12-08T04:30:00Z' },
      ]),
    ).toEqual({ tags: ['availability:staff:grace:2026-12-07'] })
  })

  it('covers both days of a reschedule, and not the next day for a booking ending at midnight', () => {
    expect(
      targetForBookedTimes('ada', 'Europe/Berlin', [
        { startsAt: '2026-12-07T08:00:00Z', endsAt: '2026-12-07T09:00:00Z' },
        { startsAt: '2026-12-08T22:00:00Z', endsAt: '2026-12-08T23:00:00Z' },
      ]),
    ).toEqual({ tags: ['availability:staff:ada:2026-12-07', 'availability:staff:ada:2026-12-08'] })
  })
})

describe('what an edit makes stale', () => {
  it("is the staff member's scope, or the whole tenant's for an edit of a service", () => {
    expect(targetForStaffEdit('t1', 'ada')).toEqual({ scopes: ['tenant:t1/staff:ada'] })
    expect(targetForStaffEdit('t1', null)).toEqual({ scopes: ['tenant:t1'] })
  })
})

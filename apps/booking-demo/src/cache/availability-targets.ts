import type { InvalidationTarget } from '@cachesaga/core'

/**
 * The cache's scope tree: a tenant, then one staff member. Availability entries live under their staff
 * member's scope, so an edit of a schedule drops that person's days and an edit of a service (which changes
 * everyone's slot grid) drops the tenant's.
 */
export const SCOPE_LEVELS = ['tenant', 'staff']

export function staffScope(tenantId: string, staffId: string): string {
  return `tenant:${tenantId}/staff:${staffId}`
}

function tenantScope(tenantId: string): string {
  return `tenant:${tenantId}`
}

/** The tag of one staff member's availability on one calendar day of their own time zone. */
export function availabilityDayTag(staffId: string, date: string): string {
  return `availability:staff:${staffId}:${date}`
}

/** The staff member's local calendar day (`YYYY-MM-DD`) of an instant. */
export function localDate(instant: Date | string, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(instant))
}

/**
 * What booked (or freed) times make stale: the availability of every local day they touch. Days, not the
 * whole staff scope, so a booking on Monday keeps Tuesday's entries.
 */
export function targetForBookedTimes(
  staffId: string,
  timeZone: string,
  times: ReadonlyArray<{ startsAt: string; endsAt: string }>,
): InvalidationTarget {
  const days = new Set<string>()
  for (const time of times) {
    days.add(localDate(time.startsAt, timeZone))
    // The end is exclusive: a booking ending at midnight does not touch the next day.
    days.add(localDate(new Date(new Date(time.endsAt).getTime() - 1), timeZone))
  }
  return { tags: [...days].map((date) => availabilityDayTag(staffId, date)) }
}

/** What an edit of staff, a schedule, a service or an external calendar makes stale. */
export function targetForStaffEdit(tenantId: string, staffId: string | null): InvalidationTarget {
  return { scopes: [staffId === null ? tenantScope(tenantId) : staffScope(tenantId, staffId)] }
}

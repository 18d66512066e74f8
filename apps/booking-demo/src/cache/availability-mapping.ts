import type { InvalidationTarget } from '@cachesaga/core'
import type { Slot } from '@cachesaga/queue'
import { type BookedSlot, defaultBookingCacheMapping } from '@cachesaga/saga'

/**
 * The demo's one mapping between its data and its cache. Entries: key `availability:<staff>:<service>:<date>`,
 * tagged with the staff member's day (`availability:staff:<staff>:<date>`, the date in their own time zone) and
 * living under their scope. What a booking makes stale is `@cachesaga/saga`'s `defaultBookingCacheMapping`, which
 * names the same day tags in the same zone: the saga steps, the change capture of `bookings` and the calendar
 * sync all go through it, so a booking, a cancellation and a reschedule drop exactly the local days they touched.
 */
export const bookingCacheMapping = defaultBookingCacheMapping

/**
 * The cache's scope tree: a tenant, then one staff member. An edit of a schedule drops that person's days, an
 * edit of a service (which changes everyone's slot grid) drops the tenant's.
 */
export const SCOPE_LEVELS = ['tenant', 'staff']

export function staffScope(tenantId: string, staffId: string): string {
  return `tenant:${tenantId}/staff:${staffId}`
}

function tenantScope(tenantId: string): string {
  return `tenant:${tenantId}`
}

export function availabilityKey(staffId: string, serviceId: string, date: string): string {
  return `availability:${staffId}:${serviceId}:${date}`
}

/** The tag of one staff member's availability on one calendar day of their own time zone (the mapping's day tag). */
export function availabilityDayTag(staffId: string, date: string): string {
  return `availability:staff:${staffId}:${date}`
}

/** A booking as the mapping sees it: its identity, its `{ start, end }` and the zone that decides its days. */
export function bookedSlot(booking: {
  id: string
  staffId: string
  serviceId: string
  slot: Slot
  timeZone: string
}): BookedSlot {
  return {
    bookingId: booking.id,
    staffId: booking.staffId,
    serviceId: booking.serviceId,
    start: booking.slot.start,
    end: booking.slot.end,
    timeZone: booking.timeZone,
  }
}

/** What an edit of staff, a schedule or a service makes stale: the staff member's scope, or the tenant's. */
export function targetForStaffEdit(tenantId: string, staffId: string | null): InvalidationTarget {
  return { scopes: [staffId === null ? tenantScope(tenantId) : staffScope(tenantId, staffId)] }
}

/**
 * What external busy time that appeared or went away makes stale: the local days it covers, through the
 * mapping's `sync` (each block is a window; its end is exclusive, the window's `to` inclusive).
 */
export function targetForBusyTime(
  staffId: string,
  timeZone: string,
  blocks: readonly Slot[],
): InvalidationTarget | null {
  const tags = new Set<string>()
  for (const block of blocks) {
    const to = new Date(Date.parse(block.end) - 1).toISOString()
    const window = bookingCacheMapping.sync({ staffId, from: block.start, to, timeZone })
    for (const tag of window.tags ?? []) tags.add(tag)
  }
  return tags.size === 0 ? null : { tags: [...tags] }
}

import { z } from 'zod'
import { slotSchema } from './envelope.js'
import { defineCatalog } from './event-catalog.js'
import { defineEvent } from './event-definition.js'

// The built-in events of a booking system, defined with `defineEvent` like any application's own: the dispatcher and
// the workers know nothing about them. Every booking event names the booking, the staff member and the service, so a
// cache mapping can turn any of them into the entries to invalidate.

const id = z.string().min(1)

/** A booking was made. v1 carried the slot as flat `start`/`end` fields; it is upcast. */
export const bookingCreated = defineEvent('booking.created')
  .version(1, z.object({ bookingId: id, staffId: id, serviceId: id, start: z.string(), end: z.string() }))
  .version(2, z.object({ bookingId: id, staffId: id, serviceId: id, slot: slotSchema }), (v1) => {
    const { start, end, ...rest } = v1
    return { ...rest, slot: { start, end } }
  })
  .options({ queue: 'booking' })

/** A booking was cancelled; its slot is free again. */
export const bookingCancelled = defineEvent('booking.cancelled')
  .version(1, z.object({ bookingId: id, staffId: id, slot: slotSchema, reason: z.string().optional() }))
  .breakingVersion(
    2,
    z.object({ bookingId: id, staffId: id, serviceId: id, slot: slotSchema, reason: z.string().optional() }),
    "version 1 did not name the service, so the service's availability could not be refreshed; " +
      're-emit the event as version 2 with payload.serviceId',
  )
  .options({ queue: 'cancellation' })

/** A booking moved from one slot to another: both slots' availability changed. */
export const bookingRescheduled = defineEvent('booking.rescheduled')
  .version(1, z.object({ bookingId: id, staffId: id, slot: slotSchema }))
  .breakingVersion(
    2,
    z.object({ bookingId: id, staffId: id, from: slotSchema, to: slotSchema }),
    'version 1 carried only the new slot, so the old slot cannot be recovered and its availability ' +
      'would stay stale; re-emit the event as version 3 with payload.from and payload.to',
  )
  .breakingVersion(
    3,
    z.object({
      bookingId: id,
      staffId: id,
      serviceId: id,
      /** The slot the booking left; its availability must be refreshed too. */
      from: slotSchema,
      to: slotSchema,
    }),
    "version 2 did not name the service, so the service's availability could not be refreshed; " +
      're-emit the event as version 3 with payload.serviceId',
  )
  .options({ queue: 'reschedule' })

/**
 * An external calendar reported changes. A burst for one calendar collapses into one pending sync: while a sync runs,
 * at most one more waits (`keepLastIfActive`), because a sync reads the calendar's whole current state anyway.
 */
export const calendarChanged = defineEvent('calendar.changed')
  .version(1, z.object({ calendarId: id, provider: id }))
  .options({
    queue: 'external-sync',
    deduplication: {
      key: (event) => `${event.tenantId}:${event.payload.calendarId}`,
      keepLastIfActive: true,
    },
  })

/** The four built-in definitions, to spread into an application's own catalog. */
export const bookingEvents = [bookingCreated, bookingCancelled, bookingRescheduled, calendarChanged] as const

/** A catalog of the built-in events alone. */
export const bookingCatalog = defineCatalog(bookingEvents)

import { z } from 'zod'

/** The instants busy time is read for: recurring events are expanded only inside it. */
export interface BusyWindow {
  from: Date
  to: Date
}

const busyIntervalSchema = z
  .object({ startsAt: z.coerce.date(), endsAt: z.coerce.date() })
  .refine((interval) => interval.startsAt < interval.endsAt, 'startsAt must be before endsAt')

/** What an external calendar answers to "what changed since this token?", parsed at the boundary. */
export const calendarChangesSchema = z.object({
  /** True when this is the whole calendar (no token, or one the server refused): it replaces what was synced. */
  fullSync: z.boolean(),
  /**
   * One entry per changed calendar object (a CalDAV resource: one event, or a recurring event with its
   * exceptions), with all of its busy time inside the window. An empty `busy` is an object that was
   * deleted, cancelled, marked free (`TRANSP:TRANSPARENT`) or has no occurrence in the window.
   */
  events: z.array(
    z.object({
      id: z.string().min(1),
      /** Set on events this app wrote for its own bookings, which are already in `bookings`. */
      bookingId: z.string().nullable(),
      busy: z.array(busyIntervalSchema),
    }),
  ),
  /** Objects whose iCalendar data did not parse: skipped (their old busy time is dropped), named for the log. */
  unreadable: z.array(z.string()),
  /** Pass it to the next call to get only what changed after this answer. */
  nextSyncToken: z.string().min(1),
})

export type CalendarChanges = z.infer<typeof calendarChangesSchema>

/** An event the booking app writes into a staff member's calendar for one of its bookings. */
export interface BookingCalendarEvent {
  /** Names the event on the server; the same id moves the event instead of adding one. */
  id: string
  bookingId: string
  startsAt: Date
  endsAt: Date
}

/**
 * The part of an external calendar service the demo uses: incremental reads with sync tokens (CalDAV's
 * RFC 6578 `sync-collection`, Google's `syncToken`), and writes of the events of its own bookings.
 * Failures are `CalendarError`s: `BOOKING_ERR_CALENDAR_UNAVAILABLE` is worth retrying, the others are not.
 */
export interface CalendarProvider {
  /**
   * Changes of `calendarId` since `syncToken`, or the whole calendar when it is null, with busy time
   * expanded inside `window`. Floating times (no zone in the event) are read in `timeZone`, the owner's.
   * A token the server refuses throws `BOOKING_ERR_CALENDAR_SYNC_TOKEN_REJECTED`.
   */
  listChanges(
    calendarId: string,
    syncToken: string | null,
    options: { window: BusyWindow; timeZone: string },
  ): Promise<unknown>
  /** Creates the booking's event, or moves it when it exists (idempotent). */
  putEvent(calendarId: string, event: BookingCalendarEvent): Promise<void>
  /** Deletes an event; deleting one that is already gone succeeds. */
  deleteEvent(calendarId: string, eventId: string): Promise<void>
}

import { z } from 'zod'

/** What an external calendar provider answers to "what changed since this token?", parsed at the boundary. */
export const calendarChangesSchema = z.object({
  /** True when no token was given: `events` is then the whole calendar and replaces what was synced before. */
  fullSync: z.boolean(),
  events: z.array(
    z.object({
      id: z.string().min(1),
      startsAt: z.coerce.date(),
      endsAt: z.coerce.date(),
      /** A deleted event: incremental results carry these so the deletion can be applied. */
      cancelled: z.boolean(),
      /** Set on events this app wrote for its own bookings, which are already in `bookings`. */
      bookingId: z.string().nullable(),
    }),
  ),
  /** Pass it to the next call to get only what changed after this answer. */
  nextSyncToken: z.string().min(1),
})

export type CalendarChanges = z.infer<typeof calendarChangesSchema>

/** The part of an external calendar API (Google Calendar's `events.list` with `syncToken`) the sync uses. */
export interface CalendarProvider {
  /**
   * Changes of `calendarId` since `syncToken`, or the whole calendar when it is null.
   * Throws `CalendarUnavailableError` for failures worth retrying.
   */
  listChanges(calendarId: string, syncToken: string | null): Promise<unknown>
}

import { CachesagaError } from '@cachesaga/common'

/** Stable codes of what can go wrong between the demo and an external calendar server. */
export type CalendarErrorCode =
  /**
   * The server did not answer in time, could not be reached, or answered 5xx/429: worth retrying.
   * `details.server` names it (credentials redacted), `details.method` and `details.status` say what failed.
   */
  | 'BOOKING_ERR_CALENDAR_UNAVAILABLE'
  /** The server refused the request (401, 403, 404, 412...): retrying the same request will not help. */
  | 'BOOKING_ERR_CALENDAR_REFUSED'
  /**
   * The server no longer accepts the stored sync token (RFC 6578 `valid-sync-token`, answered as 403, 409
   * or 410 depending on the server). `syncCalendar` answers it with a full resync.
   */
  | 'BOOKING_ERR_CALENDAR_SYNC_TOKEN_REJECTED'

/** The one error class of the external-calendar code; branch on `code`. */
export class CalendarError extends CachesagaError<CalendarErrorCode> {
  override name = 'CalendarError'
}

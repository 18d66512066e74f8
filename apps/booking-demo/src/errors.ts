import { CachesagaError } from '@cachesaga/common'

/** Stable codes, so a caller (an HTTP route, a saga step, a worker) can branch on them and a person can search. */
export type BookingDemoErrorCode =
  /** A confirmed booking of the same staff member already overlaps the requested time (PostgreSQL `23P01`). */
  | 'BOOKING_ERR_SLOT_TAKEN'
  /** The requested time is outside the staff member's working hours or blocked in their external calendar. */
  | 'BOOKING_ERR_TIME_NOT_OFFERED'
  /** The booking, staff member, service or calendar named does not exist (or belongs to another tenant). */
  | 'BOOKING_ERR_NOT_FOUND'
  /** The booking was cancelled or moved by someone else while it was being rescheduled. */
  | 'BOOKING_ERR_BOOKING_CHANGED'
  /** An option or a payload from outside did not parse; the message names the field, `details.field` the first. */
  | 'BOOKING_ERR_INVALID_INPUT'
  /** A migration file is misnamed or failed to apply; `details.file` names it. */
  | 'BOOKING_ERR_MIGRATION'
  /** No operator credential, or a wrong one, for an `/admin` route (`details.reason`: `missing` or `wrong`). */
  | 'BOOKING_ERR_UNAUTHORIZED'
  /**
   * The caller may not do this: a read-only operator asked to change something, or a booking was to be cancelled
   * or moved without its management token (the same answer whether the booking exists or not).
   */
  | 'BOOKING_ERR_FORBIDDEN'
  /** A webhook's signature is missing, malformed, wrong or outside the replay window (`details.reason`). */
  | 'BOOKING_ERR_WEBHOOK_SIGNATURE'
  /** A booking with this id exists already; its management token went to whoever made it. */
  | 'BOOKING_ERR_BOOKING_EXISTS'
  /** Too many requests from this client in the window; `details.retryAfterMs` says when to try again. */
  | 'BOOKING_ERR_RATE_LIMITED'

/** The one error base class of the booking demo: the code is a field, never part of the message. */
export class BookingDemoError extends CachesagaError<BookingDemoErrorCode> {
  override name = 'BookingDemoError'
}

/** The requested time overlaps a confirmed booking of the same staff member. */
export class SlotTakenError extends BookingDemoError {
  override name = 'SlotTakenError'

  constructor(
    readonly staffId: string,
    readonly start: string,
    readonly end: string,
    options?: { cause?: unknown },
  ) {
    super(
      'BOOKING_ERR_SLOT_TAKEN',
      `staff ${staffId} already has a confirmed booking overlapping ${start}..${end}`,
      { ...options, details: { staffId, start, end } },
    )
  }
}

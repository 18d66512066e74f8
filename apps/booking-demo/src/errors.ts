/** Stable codes, so a caller (an HTTP route, a saga step, a worker) can branch on them and a person can search. */
export type BookingDemoErrorCode =
  /** A confirmed booking of the same staff member already overlaps the requested time (PostgreSQL `23P01`). */
  | 'BOOKING_ERR_SLOT_TAKEN'
  /** The requested time is outside the staff member's working hours or blocked in their external calendar. */
  | 'BOOKING_ERR_TIME_NOT_OFFERED'
  /** The booking, staff member, service or calendar named does not exist (or belongs to another tenant). */
  | 'BOOKING_ERR_NOT_FOUND'
  /** An option or a payload from outside did not parse; the message names the field. */
  | 'BOOKING_ERR_INVALID_INPUT'
  /** A migration file is misnamed or failed to apply. */
  | 'BOOKING_ERR_MIGRATION'

/** The one error base class of the booking demo. */
export class BookingDemoError extends Error {
  override readonly name: string = 'BookingDemoError'

  constructor(
    readonly code: BookingDemoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options)
  }
}

/** The requested time overlaps a confirmed booking of the same staff member. */
export class SlotTakenError extends BookingDemoError {
  override readonly name = 'SlotTakenError'

  constructor(
    readonly staffId: string,
    readonly startsAt: Date,
    readonly endsAt: Date,
    options?: { cause?: unknown },
  ) {
    super(
      'BOOKING_ERR_SLOT_TAKEN',
      `staff ${staffId} already has a confirmed booking overlapping ${startsAt.toISOString()}..${endsAt.toISOString()}`,
      options,
    )
  }
}

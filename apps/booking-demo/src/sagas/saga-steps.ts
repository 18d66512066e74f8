import { errorCode } from '@cachesaga/common'
import type { bookingCatalog, EventBus } from '@cachesaga/queue'
import { DomainRejection, type RetryPolicyInput } from '@cachesaga/saga'
import type pg from 'pg'
import { type BookingEvent, eventIdOf } from '../bookings/booking-events.js'
import type { Booking, BookingChange, BookingRepository } from '../bookings/booking-repository.js'
import type { SlotHolds } from '../bookings/slot-holds.js'
import type { CalendarProvider } from '../calendar/calendar-provider.js'
import { BookingDemoError } from '../errors.js'
import { loadStaffProfile } from '../staff/load-staff-profile.js'

/** What the booking, cancellation and reschedule sagas use; one of each per process. */
export interface BookingSagaDeps {
  /** The app's pool, which the PostgreSQL saga store also uses: a pivot's transaction is one of this database. */
  pool: pg.Pool
  bookings: BookingRepository
  holds: SlotHolds
  calendar: CalendarProvider
  /** Where the `notify` steps announce each booking event inside the process (the dashboard's activity). */
  bus: EventBus<Record<string, unknown>, typeof bookingCatalog>
}

/**
 * The external calendar step of every saga: the provider fails now and then (`BOOKING_ERR_CALENDAR_UNAVAILABLE`),
 * so five attempts with backoff; after that the saga parks after its pivot, the booking standing, for an operator.
 */
export const CALENDAR_RETRY: RetryPolicyInput = { attempts: 5, initialDelay: '100ms' }

/** The event id `BOOKING_CALENDAR` writes under: the same for every write of one booking, so a write moves it. */
export function calendarEventId(bookingId: string): string {
  return `booking-${bookingId}`
}

/**
 * The domain's refusals (time taken, not offered, unknown booking, changed meanwhile) become `DomainRejection`,
 * which compensates instead of retrying; the booking's error code travels as its `domainCode`, for the HTTP
 * layer to map. An input that did not parse is a programming error here, not a domain answer: it stays as it is.
 */
export async function refuseAsDomain<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if (error instanceof BookingDemoError && error.code !== 'BOOKING_ERR_INVALID_INPUT') {
      throw new DomainRejection(error.code, error.message, error.details, { cause: error })
    }
    throw error
  }
}

/**
 * A calendar server that refuses the request (wrong credentials, no such calendar) will refuse it again:
 * parked at once for a person to fix, instead of retried. Unavailability is retried by the step's policy.
 */
export async function refuseWithoutRetry(call: () => Promise<void>): Promise<void> {
  try {
    await call()
  } catch (error) {
    if (errorCode(error) === 'BOOKING_ERR_CALENDAR_REFUSED') {
      throw new DomainRejection('BOOKING_ERR_CALENDAR_REFUSED', (error as Error).message, undefined, {
        cause: error,
      })
    }
    throw error
  }
}

/**
 * A pivot that commits a booking write with its event, run in the step's transaction (`transaction: true`): the
 * event id comes from the step's idempotency key, a domain refusal becomes `DomainRejection` (and rolls the
 * transaction back), and a write that finds itself already done gets its event rebuilt (`rebuild`). Returns what the
 * later steps need: the booking, its event and the staff member's calendar, read in the same transaction (a query
 * on the pool would want a second connection while the step holds this one).
 */
export async function commitWithEvent(
  transaction: pg.PoolClient,
  idempotencyKey: string,
  write: (eventId: string) => Promise<BookingChange>,
  rebuild: (booking: Booking, eventId: string) => BookingEvent,
): Promise<{ booking: Booking; event: BookingEvent; calendarId: string | null }> {
  const eventId = eventIdOf(idempotencyKey)
  const { booking, event } = await refuseAsDomain(() => write(eventId))
  const { calendarId } = await loadStaffProfile(transaction, booking.staffId)
  return { booking, event: event ?? rebuild(booking, eventId), calendarId }
}

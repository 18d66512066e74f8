import { randomUUID } from 'node:crypto'
import { errorCode } from '@cachesaga/common'
import type { EventBus } from '@cachesaga/queue'
import { DomainRejection, defineSaga, invalidateCache } from '@cachesaga/saga'
import type pg from 'pg'
import { z } from 'zod'
import { targetForBookedTimes } from '../cache/availability-targets.js'
import type { CalendarProvider } from '../calendar/calendar-provider.js'
import { BookingDemoError } from '../errors.js'
import { toDomainEvent } from '../events/to-domain-event.js'
import { loadStaffProfile, type StaffProfile } from '../staff/load-staff-profile.js'
import type { BookingRepository } from './booking-repository.js'
import type { SlotHolds } from './slot-holds.js'

interface BookingSagaDeps {
  pool: pg.Pool
  bookings: BookingRepository
  holds: SlotHolds
  calendar: CalendarProvider
  /** Where the `notify` step announces the booking inside the process. */
  bus: EventBus
}

const bookingRequestSchema = z.object({
  bookingId: z.uuid(),
  tenantId: z.uuid(),
  staffId: z.uuid(),
  serviceId: z.uuid(),
  customerEmail: z.email(),
  startsAt: z.iso.datetime({ offset: true }),
})

/** What the pivot recorded: the booking as committed, plus what later steps need about its staff member. */
interface CommittedBooking extends StaffProfile {
  startsAt: string
  endsAt: string
}

/**
 * Books an appointment: hold the time, commit the booking (the pivot: the database's exclusion constraint
 * decides), write it to the staff member's external calendar (retried: the provider fails now and then),
 * invalidate the cached availability of the days it touches, announce it, and let go of the hold.
 * A refusal before or at the pivot compensates: the hold is released and the cache invalidated again.
 */
export function createBookingSaga(deps: BookingSagaDeps) {
  return defineSaga('book-appointment', { input: bookingRequestSchema })
    .step('hold', {
      run: async ({ input, sagaId }) => {
        if (!(await deps.holds.take(input.staffId, input.startsAt, sagaId))) {
          throw new DomainRejection(
            'BOOKING_ERR_SLOT_TAKEN',
            `${input.startsAt} is being booked by someone else`,
            { staffId: input.staffId, startsAt: input.startsAt },
          )
        }
        return { heldBy: sagaId }
      },
      compensate: ({ input, sagaId }) => deps.holds.release(input.staffId, input.startsAt, sagaId),
    })
    .step('commit', {
      kind: 'pivot',
      run: async ({ input }): Promise<CommittedBooking> => {
        const booking = await refuseAsDomain(() =>
          deps.bookings.confirm({ ...input, startsAt: new Date(input.startsAt) }),
        )
        return {
          startsAt: booking.startsAt.toISOString(),
          endsAt: booking.endsAt.toISOString(),
          ...(await loadStaffProfile(deps.pool, input.staffId)),
        }
      },
    })
    .step('write-external-calendar', {
      retry: { attempts: 5, initialDelay: '100ms' },
      run: async ({ input, results }) => {
        const { calendarId, startsAt, endsAt } = results.commit
        if (calendarId === null) return { written: false }
        // The event id is the booking's, so a retried write moves the same event instead of adding one.
        await refuseWithoutRetry(() =>
          deps.calendar.putEvent(calendarId, {
            id: `booking-${input.bookingId}`,
            bookingId: input.bookingId,
            startsAt: new Date(startsAt),
            endsAt: new Date(endsAt),
          }),
        )
        return { written: true }
      },
    })
    .step(
      invalidateCache(
        ({ input, results }) =>
          targetForBookedTimes(input.staffId, results.commit.timeZone, [results.commit]),
        { name: 'invalidate-availability' },
      ),
    )
    .step('notify', {
      run: async ({ input, results }) => {
        await deps.bus.publish(
          toDomainEvent(
            {
              type: 'booking.confirmed',
              ...input,
              startsAt: results.commit.startsAt,
              endsAt: results.commit.endsAt,
            },
            randomUUID(),
            new Date(),
          ),
        )
        return { notified: input.customerEmail }
      },
    })
    .step('release-hold', {
      run: async ({ input, sagaId }) => {
        await deps.holds.release(input.staffId, input.startsAt, sagaId)
        return { released: true }
      },
    })
}

export type BookingSaga = ReturnType<typeof createBookingSaga>

/**
 * The domain's refusals (time taken, not offered, unknown staff or service) become `DomainRejection`, which
 * compensates instead of retrying; the booking's error code travels as its `domainCode`, for the HTTP layer to map.
 */
async function refuseAsDomain<T>(commit: () => Promise<T>): Promise<T> {
  try {
    return await commit()
  } catch (error) {
    if (error instanceof BookingDemoError && error.code !== 'BOOKING_ERR_INVALID_INPUT') {
      throw new DomainRejection(error.code, error.message, undefined, { cause: error })
    }
    throw error
  }
}

/**
 * A calendar server that refuses the write (wrong credentials, no such calendar) will refuse it again:
 * parked at once for a person to fix, instead of retried. Unavailability is retried by the step's policy.
 */
async function refuseWithoutRetry(write: () => Promise<void>): Promise<void> {
  try {
    await write()
  } catch (error) {
    if (errorCode(error) === 'BOOKING_ERR_CALENDAR_REFUSED') {
      throw new DomainRejection('BOOKING_ERR_CALENDAR_REFUSED', (error as Error).message, undefined, {
        cause: error,
      })
    }
    throw error
  }
}

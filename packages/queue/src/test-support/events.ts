import { randomUUID } from 'node:crypto'
import type { bookingCatalog, DomainEvent } from '../index.js'

type Booking<T extends DomainEvent<typeof bookingCatalog>['type']> = DomainEvent<typeof bookingCatalog, T>

export const slot = (hour: number) => ({
  start: `2026-03-02T${String(hour).padStart(2, '0')}:00:00.000Z`,
  end: `2026-03-02T${String(hour).padStart(2, '0')}:30:00.000Z`,
})

const envelope = () => ({ eventId: randomUUID(), occurredAt: new Date().toISOString(), tenantId: 'tenant-1' })

export function aBookingCreated(
  overrides: Partial<Booking<'booking.created'>> = {},
): Booking<'booking.created'> {
  return {
    type: 'booking.created',
    version: 2,
    ...envelope(),
    payload: { bookingId: `b-${randomUUID()}`, staffId: 'staff-1', serviceId: 'svc-1', slot: slot(9) },
    ...overrides,
  }
}

export function aCalendarChanged(calendarId: string): Booking<'calendar.changed'> {
  return { type: 'calendar.changed', version: 1, ...envelope(), payload: { calendarId, provider: 'google' } }
}

/** One event of every built-in type, for tests that go through all their queues. */
export function oneOfEach(): DomainEvent<typeof bookingCatalog>[] {
  return [
    aBookingCreated(),
    {
      type: 'booking.cancelled',
      version: 2,
      ...envelope(),
      payload: { bookingId: 'b-2', staffId: 'staff-1', serviceId: 'svc-1', slot: slot(10), reason: 'ill' },
    },
    {
      type: 'booking.rescheduled',
      version: 3,
      ...envelope(),
      payload: { bookingId: 'b-3', staffId: 'staff-1', serviceId: 'svc-1', from: slot(11), to: slot(12) },
    },
    aCalendarChanged('cal-1'),
  ]
}

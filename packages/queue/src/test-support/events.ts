import { randomUUID } from 'node:crypto'
import type { DomainEvent, DomainEventOf } from '../index.js'

const slot = (hour: number) => ({
  start: `2026-03-02T${String(hour).padStart(2, '0')}:00:00.000Z`,
  end: `2026-03-02T${String(hour).padStart(2, '0')}:30:00.000Z`,
})

export function bookingCreated(
  overrides: Partial<DomainEventOf<'booking.created'>> = {},
): DomainEventOf<'booking.created'> {
  return {
    type: 'booking.created',
    version: 2,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: 'tenant-1',
    payload: { bookingId: `b-${randomUUID()}`, staffId: 'staff-1', serviceId: 'svc-1', slot: slot(9) },
    ...overrides,
  }
}

export function calendarChanged(calendarId: string): DomainEventOf<'calendar.changed'> {
  return {
    type: 'calendar.changed',
    version: 1,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: 'tenant-1',
    payload: { calendarId, provider: 'google' },
  }
}

/** One event of every type, for tests that go through all queues. */
export function oneOfEach(): DomainEvent[] {
  const base = { occurredAt: new Date().toISOString(), tenantId: 'tenant-1' }
  return [
    bookingCreated(),
    {
      ...base,
      type: 'booking.cancelled',
      version: 1,
      eventId: randomUUID(),
      payload: { bookingId: 'b-2', staffId: 'staff-1', slot: slot(10), reason: 'ill' },
    },
    {
      ...base,
      type: 'booking.rescheduled',
      version: 2,
      eventId: randomUUID(),
      payload: { bookingId: 'b-3', staffId: 'staff-1', from: slot(11), to: slot(12) },
    },
    calendarChanged('cal-1'),
  ]
}

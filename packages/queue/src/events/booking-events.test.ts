import { describe, expect, it } from 'vitest'
import { aBookingCreated, oneOfEach } from '../test-support/events.js'
import { bookingCatalog } from './booking-events.js'

const failure = (input: unknown) => {
  try {
    bookingCatalog.parse(input)
  } catch (error) {
    return error as { code?: string; message: string; details?: Record<string, unknown> }
  }
  throw new Error('expected the catalog to reject the event')
}

describe('the built-in booking events', () => {
  it('accept the latest version of every type unchanged', () => {
    for (const event of oneOfEach()) expect(bookingCatalog.parse(event)).toEqual(event)
  })

  it('route each type to its own queue, as before', () => {
    expect(bookingCatalog.queues).toEqual(['booking', 'cancellation', 'reschedule', 'external-sync'])
  })

  it('name the field at fault, with the code as a field and out of the message', () => {
    const event = aBookingCreated()
    const broken = { ...event, payload: { ...event.payload, slot: { start: event.payload.slot.start } } }
    const error = failure(broken)
    expect(error.code).toBe('CSQ_ERR_INVALID_EVENT')
    expect(error.message).toMatch(/^booking\.created v2: payload\.slot\.end: /)
    expect(error.details).toMatchObject({ type: 'booking.created', version: 2, field: 'payload.slot.end' })
    expect(failure({ ...event, eventId: 'not-a-uuid' }).message).toMatch(/eventId: /)
  })

  it('reject a slot that ends before it starts', () => {
    const event = aBookingCreated()
    const reversed = { ...event.payload.slot, end: '2026-03-02T08:00:00.000Z' }
    expect(failure({ ...event, payload: { ...event.payload, slot: reversed } }).message).toContain(
      'payload.slot.end: end must be after start',
    )
  })

  it('reject unknown payload and envelope fields', () => {
    const event = aBookingCreated()
    expect(failure({ ...event, payload: { ...event.payload, staffid: 'typo' } }).message).toContain(
      'payload: Unrecognized key: "staffid"',
    )
    expect(
      failure({ ...event, payload: { ...event.payload, slot: { ...event.payload.slot, tz: 'UTC' } } })
        .message,
    ).toContain('payload.slot: Unrecognized key: "tz"')
    expect(failure({ ...event, traceId: 't' }).message).toContain('Unrecognized key: "traceId"')
  })

  it('reject something that is not an event at all, naming type and version', () => {
    const { message } = failure({ type: 'booking.exploded' })
    expect(message).toContain('type: expected one of booking.created, booking.cancelled')
    expect(message).toContain('version: expected a positive integer')
  })

  it('upcast booking.created v1, whose slot was flat start/end fields', () => {
    const current = aBookingCreated()
    const { slot, ...rest } = current.payload
    const v1 = { ...current, version: 1, payload: { ...rest, start: slot.start, end: slot.end } }
    expect(bookingCatalog.parse(v1)).toEqual(current)
  })

  it('validate an upcast event against the latest schema, never half-reading it', () => {
    const current = aBookingCreated()
    const { slot, ...rest } = current.payload
    const v1 = { ...current, version: 1, payload: { ...rest, start: slot.start, end: 'soon' } }
    expect(failure(v1).message).toMatch(/^booking\.created v1: payload\.slot\.end: /)
  })

  it('reject older cancellations and reschedules with the reason: they lack the service or the old slot', () => {
    const [, cancelled, rescheduled] = oneOfEach()
    expect(failure({ ...cancelled, version: 1 }).message).toMatch(
      /^booking\.cancelled v1 rejected: version 1 did not name the service/,
    )
    expect(failure({ ...rescheduled, version: 1 }).message).toContain('old slot cannot be recovered')
    expect(failure({ ...rescheduled, version: 2 }).message).toMatch(
      /^booking\.rescheduled v2 rejected: version 2 did not name the service/,
    )
  })

  it('reject versions newer than this build, and versions that never existed', () => {
    expect(failure({ ...aBookingCreated(), version: 3 }).message).toContain('newer than this build')
    expect(failure({ ...aBookingCreated(), version: 0 }).message).toContain(
      'version: expected a positive integer',
    )
  })
})

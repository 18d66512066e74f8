import { describe, expect, it } from 'vitest'
import { bookingCreated, oneOfEach } from '../test-support/events.js'
import { parseDomainEvent } from './parse.js'

const codeAndMessage = (input: unknown) => {
  try {
    parseDomainEvent(input)
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message }
  }
  throw new Error('expected parseDomainEvent to throw')
}

describe('parsing domain events', () => {
  it('accepts the current version of every event type unchanged', () => {
    for (const event of oneOfEach()) expect(parseDomainEvent(event)).toEqual(event)
  })

  it('names the field at fault', () => {
    const event = bookingCreated()
    const broken = { ...event, payload: { ...event.payload, slot: { start: event.payload.slot.start } } }
    expect(codeAndMessage(broken)).toEqual({
      code: 'CSQ_ERR_INVALID_EVENT',
      message: expect.stringMatching(/booking\.created v2: payload\.slot\.end: /),
    })
    expect(codeAndMessage({ ...event, eventId: 'not-a-uuid' }).message).toMatch(/eventId: /)
  })

  it('rejects a slot that ends before it starts', () => {
    const event = bookingCreated()
    const reversed = { ...event.payload.slot, end: '2026-03-02T08:00:00.000Z' }
    expect(codeAndMessage({ ...event, payload: { ...event.payload, slot: reversed } }).message).toContain(
      'payload.slot.end: end must be after start',
    )
  })

  it('rejects something that is not an event at all, naming type and version', () => {
    const { message } = codeAndMessage({ type: 'booking.exploded' })
    expect(message).toContain('type: ')
    expect(message).toContain('version: ')
  })

  it('upcasts booking.created v1, whose slot was flat start/end fields', () => {
    const current = bookingCreated()
    const { slot, ...rest } = current.payload
    const v1 = { ...current, version: 1, payload: { ...rest, start: slot.start, end: slot.end } }
    expect(parseDomainEvent(v1)).toEqual(current)
  })

  it('validates an upcast event against the current schema, never half-reading it', () => {
    const current = bookingCreated()
    const { slot, ...rest } = current.payload
    const v1 = { ...current, version: 1, payload: { ...rest, start: slot.start, end: 'soon' } }
    expect(codeAndMessage(v1).message).toMatch(/booking\.created v1: payload\.slot\.end: /)
  })

  it('rejects booking.rescheduled v1 with the reason: it lacks the old slot', () => {
    const [, , rescheduled] = oneOfEach()
    const { message } = codeAndMessage({ ...rescheduled, version: 1 })
    expect(message).toContain('booking.rescheduled v1 rejected')
    expect(message).toContain('old slot cannot be recovered')
  })

  it('rejects versions newer than this build and older ones it has no upcaster for', () => {
    expect(codeAndMessage({ ...bookingCreated(), version: 3 }).message).toContain('newer than this build')
    const [, cancelled] = oneOfEach()
    expect(codeAndMessage({ ...cancelled, version: 0 }).message).toContain('version: ')
  })
})

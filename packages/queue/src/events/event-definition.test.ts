import { randomUUID } from 'node:crypto'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { bookingEvents } from './booking-events.js'
import { type DispatchEvent, type DomainEvent, defineCatalog } from './event-catalog.js'
import { defineEvent, type EventOf } from './event-definition.js'

/** An application's own event: a staff member's working hours changed, first for one day, later for several. */
const staffScheduleChanged = defineEvent('staff.schedule.changed')
  .version(1, z.object({ staffId: z.string(), day: z.iso.date() }))
  .version(2, z.object({ staffId: z.string(), days: z.array(z.iso.date()).min(1) }), (v1) => ({
    staffId: v1.staffId,
    days: [v1.day],
  }))
  .options({ queue: 'staff', jobOptions: { attempts: 3, priority: 5 } })

const catalog = defineCatalog([...bookingEvents, staffScheduleChanged])

const envelope = () => ({ eventId: randomUUID(), occurredAt: '2026-03-01T10:00:00Z', tenantId: 'clinic-1' })

describe('defining an event', () => {
  it('upcasts an older version through each upcaster, validating every step', () => {
    const v1 = {
      type: 'staff.schedule.changed',
      version: 1,
      ...envelope(),
      payload: { staffId: 'ada', day: '2026-03-02' },
    }
    expect(catalog.parse(v1)).toEqual({
      ...v1,
      version: 2,
      payload: { staffId: 'ada', days: ['2026-03-02'] },
    })
    expect(() => catalog.parse({ ...v1, payload: { staffId: 'ada', day: 'monday' } })).toThrow(
      /^staff\.schedule\.changed v1: payload\.day: /,
    )
  })

  it('carries its routing and job options as data, over the defaults', () => {
    expect(staffScheduleChanged.queue).toBe('staff')
    expect(staffScheduleChanged.jobOptions).toEqual({
      attempts: 3,
      priority: 5,
      backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: false,
    })
    const event = catalog.parse({
      type: 'staff.schedule.changed',
      version: 2,
      ...envelope(),
      payload: { staffId: 'ada', days: ['2026-03-02'] },
    })
    expect(staffScheduleChanged.deduplicationOf(event as EventOf<typeof staffScheduleChanged>)).toEqual({
      id: event.eventId,
    })
  })

  it('rejects unknown payload fields unless the definition opts out', () => {
    const loose = staffScheduleChanged.options({ strict: false })
    const event = {
      type: 'staff.schedule.changed',
      version: 2,
      ...envelope(),
      payload: { staffId: 'ada', days: ['2026-03-02'], note: 'extra' },
    }
    expect(() => catalog.parse(event)).toThrow('payload: Unrecognized key: "note"')
    expect(defineCatalog([loose]).parse(event).payload).toEqual({ staffId: 'ada', days: ['2026-03-02'] })
  })

  it('refuses a malformed definition at once, with a code', () => {
    const v1 = defineEvent('room.booked').version(1, z.object({ roomId: z.string() }))
    expect(() => v1.version(3 as 2, z.object({}), () => ({}))).toThrow(
      expect.objectContaining({
        code: 'CSQ_ERR_INVALID_DEFINITION',
        message: expect.stringContaining('comes v2'),
      }),
    )
    expect(() => v1.options({ queue: 'a:b' })).toThrow(/without ":"/)
    expect(() => v1.options({ queue: 'cache-invalidation' })).toThrow(/reserved/)
    expect(() => v1.options({ jobOptions: { backoff: { type: 'fixed', delay: 'soon' } } })).toThrow(
      /room\.booked: jobOptions\.backoff\.delay: expected a duration/,
    )
    expect(() => defineEvent('Not a type!')).toThrow(/dot-separated words/)
    expect(() => defineCatalog([v1, v1])).toThrow('the catalog defines room.booked twice')
  })

  it('types handlers and dispatches by the latest version; typos do not compile', () => {
    expectTypeOf<DomainEvent<typeof catalog, 'staff.schedule.changed'>['payload']>().toEqualTypeOf<{
      staffId: string
      days: string[]
    }>()
    expectTypeOf<DomainEvent<typeof catalog>['type']>().toEqualTypeOf<
      | 'booking.created'
      | 'booking.cancelled'
      | 'booking.rescheduled'
      | 'calendar.changed'
      | 'staff.schedule.changed'
    >()
    const ok: DispatchEvent<typeof catalog> = {
      type: 'staff.schedule.changed',
      ...envelope(),
      payload: { staffId: 'ada', days: ['2026-03-02'] },
    }
    const wrongPayload: DispatchEvent<typeof catalog> = {
      type: 'staff.schedule.changed',
      ...envelope(),
      // @ts-expect-error v1's `day` is not the latest payload
      payload: { staffId: 'ada', day: '2026-03-02' },
    }
    const wrongType: DispatchEvent<typeof catalog> = {
      // @ts-expect-error a misspelled type is not in the catalog
      type: 'staff.shedule.changed',
      ...envelope(),
      payload: { staffId: 'ada', days: ['2026-03-02'] },
    }
    // @ts-expect-error only the latest version is typed
    const wrongVersion: DispatchEvent<typeof catalog> = {
      type: 'staff.schedule.changed',
      version: 1,
      ...envelope(),
      payload: { staffId: 'ada', days: ['2026-03-02'] },
    }
    expect([ok, wrongPayload, wrongType, wrongVersion]).toHaveLength(4)
  })
})

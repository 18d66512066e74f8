import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineSaga } from '../definition/define-saga.js'
import { useCaches } from '../test-support/caches.js'
import { onEachTopology } from '../test-support/redis.js'
import { testRunner } from '../test-support/runner.js'
import {
  type BookingCacheMapping,
  defaultBookingCacheMapping,
  invalidateAfterBooking,
  invalidateAfterCancellation,
  invalidateAfterReschedule,
  invalidateAfterSync,
} from './booking-invalidation.js'

const slot = z.object({
  bookingId: z.string(),
  staffId: z.string(),
  serviceId: z.string(),
  start: z.string(),
})
const input = z.object({
  booking: slot,
  previous: slot,
  sync: z.object({ staffId: z.string(), from: z.string(), to: z.string() }),
})
const booking = { bookingId: 'b7', staffId: 's1', serviceId: 'cut', start: '2026-11-23T09:00:00Z' }
const previous = { ...booking, start: '2026-11-25T14:00:00Z' }
const sync = { staffId: 's1', from: '2026-11-23T08:00:00Z', to: '2026-11-25T10:00:00Z' }

onEachTopology((redis) => {
  const newCache = useCaches(redis)

  describe('booking invalidation helpers', () => {
    it('map a booking, a cancellation, a reschedule and a sync to the entries they make stale', async () => {
      const cache = await newCache()
      const { runner } = testRunner(redis, { cache })
      const saga = defineSaga('booking-events', { input })
        .step(invalidateAfterBooking((ctx) => ctx.input.booking))
        .step(invalidateAfterCancellation((ctx) => ctx.input.previous))
        .step(invalidateAfterReschedule((ctx) => ({ from: ctx.input.previous, to: ctx.input.booking })))
        .step(invalidateAfterSync((ctx) => ctx.input.sync))
      // Built-in steps record their target, though the saga's result type only lists the user's own steps.
      const results: Record<string, unknown> = (
        await runner.run(saga, { booking, previous, sync }, { sagaId: 'h1' })
      ).results

      const bookingTags = [
        'availability:staff:s1:2026-11-23',
        'availability:service:cut:2026-11-23',
        'schedule:staff:s1',
        'staff:s1:bookings',
        'service:cut:bookings',
        'booking:b7',
      ]
      expect(results['invalidate-after-booking']).toEqual({ target: { tags: bookingTags } })
      expect(results['invalidate-after-cancellation']).toEqual({
        target: defaultBookingCacheMapping.slot(previous),
      })
      expect(results['invalidate-after-reschedule']).toEqual({
        target: {
          tags: [
            'availability:staff:s1:2026-11-25',
            'availability:service:cut:2026-11-25',
            ...bookingTags.slice(2),
            ...bookingTags.slice(0, 2),
          ],
        },
      })
      expect(results['invalidate-after-sync']).toEqual({
        target: {
          tags: [
            'schedule:staff:s1',
            'availability:staff:s1:2026-11-23',
            'availability:staff:s1:2026-11-24',
            'availability:staff:s1:2026-11-25',
          ],
        },
      })
    })

    it('drop the cached availability of the booked day', async () => {
      const cache = await newCache()
      const { runner } = testRunner(redis, { cache })
      let loads = 0
      const day = () =>
        cache.getOrSet('availability:s1:2026-11-23', () => ++loads, {
          tags: ['availability:staff:s1:2026-11-23'],
        })
      await day()
      const saga = defineSaga('book', { input }).step(invalidateAfterBooking((ctx) => ctx.input.booking))
      await runner.run(saga, { booking, previous, sync }, { sagaId: 'h2' })
      expect(await day()).toBe(2)
    })

    it('refuse as invalid input (deterministic: never retried) a start that is not a date, or a sync window over a year', () => {
      expect(() => defaultBookingCacheMapping.slot({ ...booking, start: 'next monday' })).toThrow(
        expect.objectContaining({
          code: 'SAGA_ERR_INVALID_INPUT',
          message: 'slot.start: "next monday" is not an ISO 8601 date-time',
          details: { field: 'slot.start' },
        }),
      )
      expect(() => defaultBookingCacheMapping.sync({ ...sync, to: 'never' })).toThrow(/window\.to: "never"/)
      // A corrupt calendar date must not expand into millions of tags.
      expect(() => defaultBookingCacheMapping.sync({ ...sync, to: '9999-12-31T00:00:00Z' })).toThrow(
        /spans more than 366 days; pass a `mapping`/,
      )
      expect(defaultBookingCacheMapping.sync({ ...sync, to: '2027-11-22T00:00:00Z' }).tags).toHaveLength(366)
    })

    it("name the staff member's local days, not the UTC days, when the slot carries a time zone", () => {
      // 23:30 on 7 December in New York is already 8 December in UTC.
      const evening = { ...booking, start: '2026-12-08T04:30:00Z', end: '2026-12-08T05:00:00Z' }
      expect(defaultBookingCacheMapping.slot({ ...evening, timeZone: 'America/New_York' }).tags).toEqual([
        'availability:staff:s1:2026-12-07',
        'availability:service:cut:2026-12-07',
        'schedule:staff:s1',
        'staff:s1:bookings',
        'service:cut:bookings',
        'booking:b7',
      ])
      expect(defaultBookingCacheMapping.slot(evening).tags?.[0]).toBe('availability:staff:s1:2026-12-08')
      // Across local midnight: both days. Ending at midnight: only the first (the end is exclusive).
      const late = {
        ...booking,
        start: '2026-12-07T22:30:00Z',
        end: '2026-12-07T23:30:00Z',
        timeZone: 'Europe/Berlin',
      }
      expect(defaultBookingCacheMapping.slot(late).tags?.slice(0, 2)).toEqual([
        'availability:staff:s1:2026-12-07',
        'availability:staff:s1:2026-12-08',
      ])
      expect(defaultBookingCacheMapping.slot({ ...late, end: '2026-12-07T23:00:00Z' }).tags?.[1]).toBe(
        'availability:service:cut:2026-12-07',
      )
    })

    it('cover every local day of a sync window once, across a daylight saving change', () => {
      // Berlin leaves summer time on 25 October 2026: that day has 25 hours.
      const window = {
        staffId: 's1',
        from: '2026-10-24T10:00:00Z',
        to: '2026-10-26T10:00:00Z',
        timeZone: 'Europe/Berlin',
      }
      expect(defaultBookingCacheMapping.sync(window).tags).toEqual([
        'schedule:staff:s1',
        'availability:staff:s1:2026-10-24',
        'availability:staff:s1:2026-10-25',
        'availability:staff:s1:2026-10-26',
      ])
    })

    it('refuse as invalid input a time zone that is not an IANA zone, and a slot that ends before it starts', () => {
      expect(() => defaultBookingCacheMapping.slot({ ...booking, timeZone: 'Mars/Olympus' })).toThrow(
        expect.objectContaining({ code: 'SAGA_ERR_INVALID_INPUT', details: { field: 'slot.timeZone' } }),
      )
      expect(() => defaultBookingCacheMapping.slot({ ...booking, end: booking.start })).toThrow(
        expect.objectContaining({ code: 'SAGA_ERR_INVALID_INPUT', details: { field: 'slot.end' } }),
      )
    })

    it('take a custom mapping', async () => {
      const cache = await newCache()
      const { runner } = testRunner(redis, { cache })
      const mapping: BookingCacheMapping = {
        slot: (s) => ({ scopes: [`staff:${s.staffId}`] }),
        sync: (w) => ({ scopes: [`staff:${w.staffId}/calendar`] }),
      }
      const saga = defineSaga('custom', { input })
        .step(invalidateAfterBooking((ctx) => ctx.input.booking, { mapping }))
        .step(invalidateAfterSync((ctx) => ctx.input.sync, { mapping, name: 'calendar-sync' }))
      const { results } = await runner.run(saga, { booking, previous, sync }, { sagaId: 'h3' })
      expect(results).toEqual({
        'invalidate-after-booking': { target: { scopes: ['staff:s1'] } },
        'calendar-sync': { target: { scopes: ['staff:s1/calendar'] } },
      })
    })
  })
})

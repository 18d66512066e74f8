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

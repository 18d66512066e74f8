import type { InvalidationTarget } from '@cachesaga/core'
import type { SagaStep, StepContext } from '../definition/step.js'
import { SagaError } from '../errors.js'
import { type InvalidateCacheOptions, invalidateCache } from './invalidate-cache.js'

/** The part of a booking that decides which cache entries it affects. */
export interface BookedSlot {
  bookingId: string
  staffId: string
  serviceId: string
  /** ISO 8601 start; its date (UTC) names the availability day. */
  start: string
}

/** A calendar sync: one staff member's external events changed between two instants. */
export interface SyncWindow {
  staffId: string
  /** ISO 8601, inclusive. */
  from: string
  /** ISO 8601, inclusive. */
  to: string
}

/** Which cache entries a booking, or a calendar sync, makes stale. */
export interface BookingCacheMapping {
  slot(slot: BookedSlot): InvalidationTarget
  sync(window: SyncWindow): InvalidationTarget
}

const DAY_MS = 86_400_000
/** Longest sync window the default mapping expands into per-day tags; longer ones are a bug upstream, not a sync. */
const MAX_SYNC_DAYS = 366

/**
 * The UTC date of an ISO 8601 instant; otherwise SAGA_ERR_INVALID_INPUT naming the field, a deterministic failure:
 * retrying cannot fix the input.
 */
function day(iso: string, field: string): string {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) {
    throw new SagaError('SAGA_ERR_INVALID_INPUT', `${field}: "${iso}" is not an ISO 8601 date-time`, {
      details: { field },
    })
  }
  return new Date(at).toISOString().slice(0, 10)
}

/**
 * Tags of the default mapping: a slot's day of availability (per staff member and per service), the staff member's
 * schedule and booking list, the service's booking list, and the booking itself.
 */
export const defaultBookingCacheMapping: BookingCacheMapping = {
  slot: (slot) => ({
    tags: [
      `availability:staff:${slot.staffId}:${day(slot.start, 'slot.start')}`,
      `availability:service:${slot.serviceId}:${day(slot.start, 'slot.start')}`,
      `schedule:staff:${slot.staffId}`,
      `staff:${slot.staffId}:bookings`,
      `service:${slot.serviceId}:bookings`,
      `booking:${slot.bookingId}`,
    ],
  }),
  sync: (window) => {
    const tags = [`schedule:staff:${window.staffId}`]
    const first = Date.parse(`${day(window.from, 'window.from')}T00:00:00Z`)
    const last = Date.parse(`${day(window.to, 'window.to')}T00:00:00Z`)
    if ((last - first) / DAY_MS >= MAX_SYNC_DAYS) {
      throw new SagaError(
        'SAGA_ERR_INVALID_INPUT',
        `sync window ${window.from} .. ${window.to} spans more than ${MAX_SYNC_DAYS} days; ` +
          'pass a `mapping` whose `sync` uses a pattern or a scope for long windows',
        { details: { field: 'window', maxDays: MAX_SYNC_DAYS } },
      )
    }
    for (let at = first; at <= last; at += DAY_MS) {
      tags.push(`availability:staff:${window.staffId}:${new Date(at).toISOString().slice(0, 10)}`)
    }
    return { tags }
  },
}

export interface BookingInvalidationOptions extends InvalidateCacheOptions {
  /** Default `defaultBookingCacheMapping`. */
  mapping?: BookingCacheMapping
}

type Select<Input, Results, T> = (ctx: StepContext<Input, Results>) => T

function mappedStep<Input, Results>(
  defaultName: string,
  options: BookingInvalidationOptions,
  target: (mapping: BookingCacheMapping, ctx: StepContext<Input, Results>) => InvalidationTarget,
): SagaStep<Input, Results> {
  const { mapping = defaultBookingCacheMapping, ...stepOptions } = options
  return invalidateCache<Input, Results>((ctx) => target(mapping, ctx), { name: defaultName, ...stepOptions })
}

/** Invalidates what a new booking makes stale. */
export function invalidateAfterBooking<Input, Results>(
  select: Select<Input, Results, BookedSlot>,
  options: BookingInvalidationOptions = {},
): SagaStep<Input, Results> {
  return mappedStep('invalidate-after-booking', options, (mapping, ctx) => mapping.slot(select(ctx)))
}

/** Invalidates what a cancelled booking makes stale (the freed slot). */
export function invalidateAfterCancellation<Input, Results>(
  select: Select<Input, Results, BookedSlot>,
  options: BookingInvalidationOptions = {},
): SagaStep<Input, Results> {
  return mappedStep('invalidate-after-cancellation', options, (mapping, ctx) => mapping.slot(select(ctx)))
}

/** Invalidates both the old slot and the new one. */
export function invalidateAfterReschedule<Input, Results>(
  select: Select<Input, Results, { from: BookedSlot; to: BookedSlot }>,
  options: BookingInvalidationOptions = {},
): SagaStep<Input, Results> {
  return mappedStep('invalidate-after-reschedule', options, (mapping, ctx) => {
    const { from, to } = select(ctx)
    return mergeTargets(mapping.slot(from), mapping.slot(to))
  })
}

/** Invalidates a staff member's schedule and availability over a synced window. */
export function invalidateAfterSync<Input, Results>(
  select: Select<Input, Results, SyncWindow>,
  options: BookingInvalidationOptions = {},
): SagaStep<Input, Results> {
  return mappedStep('invalidate-after-sync', options, (mapping, ctx) => mapping.sync(select(ctx)))
}

/** One target covering both; string entries are de-duplicated. */
function mergeTargets(a: InvalidationTarget, b: InvalidationTarget): InvalidationTarget {
  const merged: InvalidationTarget = {}
  const union = <T>(x: T[] | undefined, y: T[] | undefined) => [...new Set([...(x ?? []), ...(y ?? [])])]
  if (a.keys || b.keys) merged.keys = union(a.keys, b.keys)
  if (a.tags || b.tags) merged.tags = union(a.tags, b.tags)
  if (a.patterns || b.patterns) merged.patterns = union(a.patterns, b.patterns)
  if (a.scopes || b.scopes) merged.scopes = union(a.scopes, b.scopes)
  if (a.queries || b.queries) merged.queries = union(a.queries, b.queries)
  return merged
}

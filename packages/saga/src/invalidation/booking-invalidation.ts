import type { InvalidationTarget } from '@cachesaga/core'
import type { SagaStep, StepContext } from '../definition/step.js'
import { SagaError } from '../errors.js'
import { type InvalidateCacheOptions, invalidateCache } from './invalidate-cache.js'

/**
 * The part of a booking that decides which cache entries it affects. The slot is `{ start, end }` (ISO 8601 instants),
 * the shape @cachesaga/queue's booking events carry, plus the booking's identity and the staff member's time zone.
 */
export interface BookedSlot {
  bookingId: string
  staffId: string
  serviceId: string
  /** ISO 8601 instant the booking starts. */
  start: string
  /** ISO 8601 instant it ends (exclusive). Without it the slot touches only the day of its start. */
  end?: string
  /**
   * The staff member's IANA time zone (`Europe/Berlin`). Availability is offered per local day, so the zone decides
   * which days a slot touches: 23:30 in New York is already tomorrow in UTC. Default `UTC`.
   */
  timeZone?: string
}

/** A calendar sync: one staff member's external events changed between two instants. */
export interface SyncWindow {
  staffId: string
  /** ISO 8601, inclusive. */
  from: string
  /** ISO 8601, inclusive. */
  to: string
  /** The staff member's IANA time zone, which decides the local days the window covers. Default `UTC`. */
  timeZone?: string
}

/** Which cache entries a booking, or a calendar sync, makes stale. */
export interface BookingCacheMapping {
  slot(slot: BookedSlot): InvalidationTarget
  sync(window: SyncWindow): InvalidationTarget
}

/** Longest sync window the default mapping expands into per-day tags; longer ones are a bug upstream, not a sync. */
const MAX_SYNC_DAYS = 366

/** A formatter per zone: building one costs far more than formatting with it, and a booking system has few zones. */
const dayFormats = new Map<string, Intl.DateTimeFormat>()

/**
 * The formatter of `timeZone`'s calendar days (`YYYY-MM-DD`, en-CA's order); an unknown zone is SAGA_ERR_INVALID_INPUT
 * naming the field, a deterministic failure.
 */
function dayFormat(timeZone: string, field: string): Intl.DateTimeFormat {
  let format = dayFormats.get(timeZone)
  if (format !== undefined) return format
  try {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  } catch (error) {
    throw new SagaError('SAGA_ERR_INVALID_INPUT', `${field}: "${timeZone}" is not an IANA time zone`, {
      cause: error,
      details: { field },
    })
  }
  dayFormats.set(timeZone, format)
  return format
}

/**
 * The instant of an ISO 8601 date-time, in ms; otherwise SAGA_ERR_INVALID_INPUT naming the field, a deterministic
 * failure: retrying cannot fix the input.
 */
function instant(iso: string, field: string): number {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) {
    throw new SagaError('SAGA_ERR_INVALID_INPUT', `${field}: "${iso}" is not an ISO 8601 date-time`, {
      details: { field },
    })
  }
  return at
}

/**
 * The local calendar days (`YYYY-MM-DD`, in order) that `[from, to]` touches in `timeZone`, walking in steps of a few
 * hours so that days of 23 or 25 hours (daylight saving) are neither skipped nor counted twice.
 */
function localDays(from: number, to: number, format: Intl.DateTimeFormat): string[] {
  const days = [format.format(from)]
  const STEP_MS = 3 * 3_600_000
  for (let at = from + STEP_MS; ; at += STEP_MS) {
    const day = format.format(Math.min(at, to))
    if (day !== days[days.length - 1]) days.push(day)
    if (at >= to) return days
    if (days.length > MAX_SYNC_DAYS) return days
  }
}

/** The local days a slot touches: from its start to just before its end (the end is exclusive). */
function slotDays(slot: BookedSlot): string[] {
  const format = dayFormat(slot.timeZone ?? 'UTC', 'slot.timeZone')
  const start = instant(slot.start, 'slot.start')
  if (slot.end === undefined) return [format.format(start)]
  const end = instant(slot.end, 'slot.end')
  if (end <= start) {
    throw new SagaError('SAGA_ERR_INVALID_INPUT', `slot.end: "${slot.end}" is not after slot.start`, {
      details: { field: 'slot.end' },
    })
  }
  const days = localDays(start, end - 1, format)
  if (days.length > MAX_SYNC_DAYS) {
    throw new SagaError(
      'SAGA_ERR_INVALID_INPUT',
      `slot ${slot.start} .. ${slot.end} spans more than ${MAX_SYNC_DAYS} days`,
      {
        details: { field: 'slot.end', maxDays: MAX_SYNC_DAYS },
      },
    )
  }
  return days
}

/**
 * Tags of the default mapping: a slot's days of availability (per staff member and per service, each a local day of
 * the staff member's time zone), the staff member's schedule and booking list, the service's booking list, and the
 * booking itself.
 */
export const defaultBookingCacheMapping: BookingCacheMapping = {
  slot: (slot) => {
    const days = slotDays(slot)
    return {
      tags: [
        ...days.map((day) => `availability:staff:${slot.staffId}:${day}`),
        ...days.map((day) => `availability:service:${slot.serviceId}:${day}`),
        `schedule:staff:${slot.staffId}`,
        `staff:${slot.staffId}:bookings`,
        `service:${slot.serviceId}:bookings`,
        `booking:${slot.bookingId}`,
      ],
    }
  },
  sync: (window) => {
    const format = dayFormat(window.timeZone ?? 'UTC', 'window.timeZone')
    const from = instant(window.from, 'window.from')
    const to = instant(window.to, 'window.to')
    const days = localDays(from, Math.max(from, to), format)
    if (days.length > MAX_SYNC_DAYS) {
      throw new SagaError(
        'SAGA_ERR_INVALID_INPUT',
        `sync window ${window.from} .. ${window.to} spans more than ${MAX_SYNC_DAYS} days; ` +
          'pass a `mapping` whose `sync` uses a pattern or a scope for long windows',
        { details: { field: 'window', maxDays: MAX_SYNC_DAYS } },
      )
    }
    return {
      tags: [
        `schedule:staff:${window.staffId}`,
        ...days.map((day) => `availability:staff:${window.staffId}:${day}`),
      ],
    }
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

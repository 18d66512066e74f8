import { z } from 'zod'

/** A booked time range; `end` must come after `start`. */
export const slotSchema = z
  .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
  .refine((slot) => Date.parse(slot.end) > Date.parse(slot.start), {
    message: 'end must be after start',
    path: ['end'],
  })

export type Slot = z.infer<typeof slotSchema>

/** Fields every domain event carries, whatever its type and version. */
export const envelopeShape = {
  /** Unique per event; the queue deduplicates on it and handlers use it as their idempotency key. */
  eventId: z.uuid(),
  /** When the change happened at the source; lag is measured from here to the end of processing. */
  occurredAt: z.iso.datetime({ offset: true }),
  tenantId: z.string().min(1),
}

export const bookingCreatedSchema = z.object({
  type: z.literal('booking.created'),
  version: z.literal(2),
  ...envelopeShape,
  payload: z.object({
    bookingId: z.string().min(1),
    staffId: z.string().min(1),
    serviceId: z.string().min(1),
    slot: slotSchema,
  }),
})

export const bookingCancelledSchema = z.object({
  type: z.literal('booking.cancelled'),
  version: z.literal(1),
  ...envelopeShape,
  payload: z.object({
    bookingId: z.string().min(1),
    staffId: z.string().min(1),
    slot: slotSchema,
    reason: z.string().optional(),
  }),
})

export const bookingRescheduledSchema = z.object({
  type: z.literal('booking.rescheduled'),
  version: z.literal(2),
  ...envelopeShape,
  payload: z.object({
    bookingId: z.string().min(1),
    staffId: z.string().min(1),
    /** The slot the booking left; its availability must be refreshed too. */
    from: slotSchema,
    to: slotSchema,
  }),
})

export const calendarChangedSchema = z.object({
  type: z.literal('calendar.changed'),
  version: z.literal(1),
  ...envelopeShape,
  payload: z.object({
    /** The external calendar that reported changes; syncs are deduplicated per calendar. */
    calendarId: z.string().min(1),
    provider: z.string().min(1),
  }),
})

/** The current version of every domain event, discriminated by `type`. */
export const domainEventSchema = z.discriminatedUnion('type', [
  bookingCreatedSchema,
  bookingCancelledSchema,
  bookingRescheduledSchema,
  calendarChangedSchema,
])

export type DomainEvent = z.infer<typeof domainEventSchema>
export type DomainEventType = DomainEvent['type']
export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>

export const DOMAIN_EVENT_TYPES = domainEventSchema.options.map(
  (schema) => schema.shape.type.value,
) as readonly DomainEventType[]

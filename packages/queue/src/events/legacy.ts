import { z } from 'zod'
import { type DomainEvent, type DomainEventType, domainEventSchema, envelopeShape } from './schemas.js'

/** How an older version of an event is handled: upcast to the current one, or rejected with a reason. */
type LegacyVersion = { schema: z.ZodType; upcast: (old: never) => unknown } | { rejected: string }

/** booking.created v1 carried the slot as flat `start`/`end` fields. */
const bookingCreatedV1 = z.object({
  type: z.literal('booking.created'),
  version: z.literal(1),
  ...envelopeShape,
  payload: z.object({
    bookingId: z.string().min(1),
    staffId: z.string().min(1),
    serviceId: z.string().min(1),
    start: z.string(),
    end: z.string(),
  }),
})

/**
 * Older versions by type and version number. An upcast result is validated again against the current
 * schema, so an upcaster can never hand a handler a half-read event.
 */
export const LEGACY_VERSIONS: Partial<Record<DomainEventType, Record<number, LegacyVersion>>> = {
  'booking.created': {
    1: {
      schema: bookingCreatedV1,
      upcast: (old: z.infer<typeof bookingCreatedV1>) => {
        const { start, end, ...rest } = old.payload
        return { ...old, version: 2, payload: { ...rest, slot: { start, end } } }
      },
    },
  },
  'booking.rescheduled': {
    1: {
      rejected:
        'version 1 carried only the new slot, so the old slot cannot be recovered and its availability ' +
        'would stay stale; re-emit the event as version 2 with payload.from and payload.to',
    },
  },
}

export const CURRENT_VERSIONS = Object.fromEntries(
  domainEventSchema.options.map((schema) => [schema.shape.type.value, schema.shape.version.value]),
) as Record<DomainEvent['type'], number>

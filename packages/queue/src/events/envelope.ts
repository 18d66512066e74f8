import { z } from 'zod'

/** A booked time range as ISO 8601 instants; `end` must come after `start`. The one slot shape of cachesaga. */
export const slotSchema = z
  .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
  .refine((slot) => Date.parse(slot.end) > Date.parse(slot.start), {
    message: 'end must be after start',
    path: ['end'],
  })

export type Slot = z.infer<typeof slotSchema>

/** The fields every domain event carries besides `type`, `version` and `payload`, whatever its definition. */
export interface EventEnvelope {
  /** Unique per event; the default deduplication key and the handlers' idempotency key. */
  eventId: string
  /** When the change happened at the source; lag is measured from here to the end of processing. */
  occurredAt: string
  tenantId: string
}

/** An event as it travels and as a handler sees it, at one version of its definition. */
export interface DomainEventShape<
  Type extends string = string,
  Version extends number = number,
  Payload = unknown,
> extends EventEnvelope {
  type: Type
  version: Version
  payload: Payload
}

/** The zod shape of the envelope; `payload` is the version's own schema. */
export const envelopeShape = {
  eventId: z.uuid(),
  occurredAt: z.iso.datetime({ offset: true }),
  tenantId: z.string().min(1),
}

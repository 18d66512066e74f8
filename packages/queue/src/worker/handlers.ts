import { QueueError } from '../errors.js'
import { DOMAIN_EVENT_TYPES, type DomainEventOf, type DomainEventType } from '../events/schemas.js'

/** What a handler gets besides the event. */
export interface HandlerContext {
  /**
   * Stable across redeliveries of the same event (it is the event id). Delivery is at-least-once, so a
   * handler makes its effect exactly-once by recording this key in the same atomic step as the effect:
   * `INSERT ... ON CONFLICT DO NOTHING` in the transaction that writes, or a Lua script that checks and
   * marks in Redis. Marking before or after the effect as a separate step loses or repeats it on a crash.
   */
  idempotencyKey: string
  /** 1 on first delivery; higher after a retry or a stalled-job recovery. */
  attempt: number
  queue: string
  jobId: string
}

export type EventHandler<T extends DomainEventType> = (
  event: DomainEventOf<T>,
  context: HandlerContext,
) => void | Promise<void>

/** The application's handlers, one per event type; a worker only needs those of the queues it runs. */
export type DomainEventHandlers = { [T in DomainEventType]?: EventHandler<T> }

/** Identity function that gives a handlers module its types: `export default defineHandlers({ ... })`. */
export function defineHandlers<H extends DomainEventHandlers>(handlers: H): H {
  return handlers
}

/** Checks a module loaded at run time really holds handlers; throws `CSQ_ERR_INVALID_HANDLERS` otherwise. */
export function assertHandlers(value: unknown, source: string): asserts value is DomainEventHandlers {
  if (typeof value !== 'object' || value === null) {
    throw new QueueError('CSQ_ERR_INVALID_HANDLERS', `${source}: the default export is not a handlers object`)
  }
  for (const [key, handler] of Object.entries(value)) {
    if (!(DOMAIN_EVENT_TYPES as readonly string[]).includes(key)) {
      throw new QueueError(
        'CSQ_ERR_INVALID_HANDLERS',
        `${source}: "${key}" is not an event type (expected one of ${DOMAIN_EVENT_TYPES.join(', ')})`,
      )
    }
    if (typeof handler !== 'function') {
      throw new QueueError('CSQ_ERR_INVALID_HANDLERS', `${source}: handler "${key}" is not a function`)
    }
  }
}

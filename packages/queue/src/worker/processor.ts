import { type Processor, UnrecoverableError } from 'bullmq'
import type { DomainEventShape } from '../events/envelope.js'
import type { AnyEventCatalog } from '../events/event-catalog.js'
import type { EventHandler } from './handlers.js'

/**
 * Turns a queue's jobs into handler calls by event type. A payload that does not parse, or an event whose type is not
 * routed to this queue, can never succeed on retry, so it fails with `UnrecoverableError` straight into the failed set.
 */
export function eventProcessor(
  catalog: AnyEventCatalog,
  queue: string,
  handlers: ReadonlyMap<string, EventHandler<DomainEventShape>>,
): Processor<unknown, void> {
  return async (job) => {
    let event: DomainEventShape
    try {
      event = catalog.parse(job.data)
    } catch (error) {
      throw new UnrecoverableError((error as Error).message)
    }
    const handler = handlers.get(event.type)
    if (handler === undefined) {
      throw new UnrecoverableError(
        `${event.type} does not belong on queue ${queue} (its queue is ${catalog.definition(event.type)?.queue})`,
      )
    }
    await handler(event, {
      idempotencyKey: event.eventId,
      attempt: Math.max(1, job.attemptsStarted),
      queue,
      jobId: job.id ?? '',
    })
  }
}

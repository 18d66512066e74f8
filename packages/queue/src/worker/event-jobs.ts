import { QueueError } from '../errors.js'
import type { DomainEventShape } from '../events/envelope.js'
import type { AnyEventCatalog } from '../events/event-catalog.js'
import { ATTR } from '../tracing/queue-tracing.js'
import type { EventHandler } from './handlers.js'
import type { JobReader } from './prepared-job.js'

/**
 * Turns a queue's jobs into handler calls by event type. A payload that does not parse (`CSQ_ERR_INVALID_EVENT`), or an
 * event whose type is not routed to this queue, can never succeed on retry.
 */
export function eventJobs(
  catalog: AnyEventCatalog,
  queue: string,
  handlers: ReadonlyMap<string, EventHandler<DomainEventShape>>,
): JobReader {
  return (job) => {
    const event: DomainEventShape = catalog.parse(job.data)
    const handler = handlers.get(event.type)
    if (handler === undefined) {
      throw new QueueError(
        'CSQ_ERR_INVALID_EVENT',
        `${event.type} does not belong on queue ${queue} (its queue is ${catalog.definition(event.type)?.queue})`,
        { details: { type: event.type, queue } },
      )
    }
    return {
      attributes: {
        [ATTR.eventType]: event.type,
        [ATTR.eventId]: event.eventId,
        [ATTR.eventVersion]: event.version,
      },
      run: async () =>
        handler(event, {
          idempotencyKey: event.eventId,
          attempt: Math.max(1, job.attemptsStarted),
          queue,
          jobId: job.id ?? '',
        }),
    }
  }
}

import { type Processor, UnrecoverableError } from 'bullmq'
import { parseDomainEvent } from '../events/parse.js'
import type { DomainEvent } from '../events/schemas.js'
import { EVENT_FOR_QUEUE, type QueueName } from '../queues/routing.js'
import type { EventHandler } from './handlers.js'

/**
 * Turns a queue's jobs into handler calls. A payload that does not parse, or an event on the wrong
 * queue, can never succeed on retry, so it fails with `UnrecoverableError` straight into the failed set.
 */
export function createProcessor(
  queue: QueueName,
  handler: EventHandler<DomainEvent['type']>,
): Processor<unknown, void> {
  const expected = EVENT_FOR_QUEUE[queue]
  return async (job) => {
    let event: DomainEvent
    try {
      event = parseDomainEvent(job.data)
    } catch (error) {
      throw new UnrecoverableError((error as Error).message)
    }
    if (event.type !== expected) {
      throw new UnrecoverableError(`${event.type} does not belong on queue ${queue} (expected ${expected})`)
    }
    await handler(event as never, {
      idempotencyKey: event.eventId,
      attempt: Math.max(1, job.attemptsStarted),
      queue,
      jobId: job.id ?? '',
    })
  }
}

import type { JobsOptions } from 'bullmq'
import type { DomainEvent, DomainEventType } from '../events/schemas.js'

/** Every queue this package runs, by the event type it carries. */
export const QUEUE_FOR_EVENT = {
  'booking.created': 'booking',
  'booking.cancelled': 'cancellation',
  'booking.rescheduled': 'reschedule',
  'calendar.changed': 'external-sync',
} as const satisfies Record<DomainEventType, string>

export type QueueName = (typeof QUEUE_FOR_EVENT)[DomainEventType]

export const QUEUE_NAMES = Object.values(QUEUE_FOR_EVENT) as readonly QueueName[]

/** The queue of cache invalidations that failed inside a saga and are retried here (see `InvalidationQueue`). */
export const INVALIDATION_QUEUE = 'cache-invalidation'

/** Every queue the admin tools can operate on. */
export type AnyQueueName = QueueName | typeof INVALIDATION_QUEUE

export const EVENT_FOR_QUEUE = Object.fromEntries(
  Object.entries(QUEUE_FOR_EVENT).map(([type, queue]) => [queue, type]),
) as Record<QueueName, DomainEventType>

/**
 * Retries for transient errors: 6 attempts, exponential from 500 ms with up to 50% jitter (about 15 s
 * in total), so a Redis or database blip is ridden out without a thundering herd of retries.
 * Completed jobs are trimmed; failed jobs are kept because the failed set is the dead-letter queue.
 */
const RETRY_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: false,
} as const satisfies JobsOptions

/**
 * Domain events are deduplicated by event id while pending. A burst of `calendar.changed` for one
 * calendar collapses into one pending sync: `keepLastIfActive` keeps at most one running and one
 * waiting sync per calendar, because a sync reads the calendar's whole current state anyway.
 */
export function jobOptionsFor(event: DomainEvent, jobId: string): JobsOptions {
  const deduplication =
    event.type === 'calendar.changed'
      ? { id: `${event.tenantId}:${event.payload.calendarId}`, keepLastIfActive: true }
      : { id: event.eventId }
  return { ...RETRY_OPTIONS, jobId, deduplication }
}

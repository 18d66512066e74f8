export type { DeadLetter, PurgeRequest } from './admin/dead-letters.js'
export { QueueAdmin } from './admin/queue-admin.js'
export type { QueueStats } from './admin/queue-stats.js'
export { DEFAULT_QUEUE_PREFIX, type ProducerOptions, STALLED_DEFAULTS } from './config.js'
export { QueueError, type QueueErrorCode } from './errors.js'
export {
  bookingCancelled,
  bookingCatalog,
  bookingCreated,
  bookingEvents,
  bookingRescheduled,
  calendarChanged,
} from './events/booking-events.js'
export { type DomainEventShape, type EventEnvelope, type Slot, slotSchema } from './events/envelope.js'
export {
  EventBus,
  type EventListener,
  type EventPattern,
  type EventsMatching,
  type ListenerFailure,
  type Signal,
} from './events/event-bus.js'
export {
  type AnyEventCatalog,
  type DispatchEvent,
  type DomainEvent,
  defineCatalog,
  type EventCatalog,
  type EventTypeOf,
  type QueueOf,
} from './events/event-catalog.js'
export {
  type AnyEventDefinition,
  type Deduplication,
  type DispatchEventOf,
  defineEvent,
  type EventDefinition,
  type EventOf,
  type EventOptions,
  type Upcaster,
  type VersionedEvent,
} from './events/event-definition.js'
export { DEFAULT_JOB_OPTIONS, type DispatchOptions, type JobOptions } from './events/job-options.js'
export type { CacheInvalidator, InvalidationJob } from './invalidation/invalidation-job.js'
export { InvalidationQueue, type InvalidationQueueOptions } from './invalidation/invalidation-queue.js'
export type { CacheMaintainer, MaintenanceTask } from './maintenance/cache-maintainer.js'
export { type MaintenanceSchedule, scheduleCacheMaintenance } from './maintenance/schedule-maintenance.js'
export type { LagHistogram } from './metrics/lag-histogram.js'
export { Dispatcher, type DispatcherOptions, type DispatchReceipt } from './queues/dispatcher.js'
export { CACHE_MAINTENANCE_QUEUE, INVALIDATION_QUEUE, type ReservedQueue } from './queues/internal-queues.js'
export {
  defineHandlers,
  type EventHandler,
  type EventHandlers,
  type HandlerContext,
  type WorkerHandlers,
} from './worker/handlers.js'
export { type StartWorkersOptions, startWorkers, type WorkerGroup } from './worker/worker-group.js'
export type { LogLevel, WorkerLog } from './worker/worker-log.js'

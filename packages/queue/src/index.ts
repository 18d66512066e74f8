export type { DeadLetter, PurgeRequest } from './admin/dead-letters.js'
export { QueueAdmin } from './admin/queue-admin.js'
export type { QueueStats } from './admin/queue-stats.js'
export { type ConnectionOptions, STALLED_DEFAULTS, type WorkerOptions } from './config.js'
export { QueueError, type QueueErrorCode } from './errors.js'
export {
  EventBus,
  type EventListener,
  type EventPattern,
  type EventsMatching,
  type ListenerFailure,
  type Signal,
} from './events/event-bus.js'
export { parseDomainEvent } from './events/parse.js'
export {
  bookingCancelledSchema,
  bookingCreatedSchema,
  bookingRescheduledSchema,
  calendarChangedSchema,
  type DomainEvent,
  type DomainEventOf,
  type DomainEventType,
  domainEventSchema,
  type Slot,
  slotSchema,
} from './events/schemas.js'
export type { CacheInvalidator, InvalidationJob } from './invalidation/invalidation-job.js'
export { InvalidationQueue, type InvalidationQueueOptions } from './invalidation/invalidation-queue.js'
export {
  type InvalidationWorkerOptions,
  startInvalidationWorker,
} from './invalidation/invalidation-worker.js'
export {
  CACHE_MAINTENANCE_QUEUE,
  type CacheMaintainer,
  type MaintenanceSchedule,
  scheduleCacheMaintenance,
  startCacheMaintenanceWorker,
} from './maintenance/cache-maintenance.js'
export type { LagHistogram } from './metrics/lag-histogram.js'
export { Dispatcher, type DispatchReceipt } from './queues/dispatcher.js'
export { type AnyQueueName, INVALIDATION_QUEUE, QUEUE_FOR_EVENT, type QueueName } from './queues/routing.js'
export {
  type DomainEventHandlers,
  defineHandlers,
  type EventHandler,
  type HandlerContext,
} from './worker/handlers.js'
export { startWorkers, type WorkerGroup } from './worker/worker-group.js'
export type { LogLevel, WorkerLog } from './worker/worker-log.js'

import { PackageTracing } from '@cachesaga/common/tracing'

/** The tracer of @cachesaga/queue; off (undefined) while the application registered no tracer provider. */
export const tracing = new PackageTracing(new URL('../../package.json', import.meta.url))

/**
 * Every span attribute this package sets, by one name each (the README lists them). The `messaging.*` ones are
 * OpenTelemetry's messaging conventions; the `cachesaga.*` ones are the domain's.
 */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  eventType: 'cachesaga.event.type',
  eventTypes: 'cachesaga.event.types',
  eventId: 'cachesaga.event.id',
  eventVersion: 'cachesaga.event.version',
  deduplicated: 'cachesaga.job.deduplicated',
  deduplicatedCount: 'cachesaga.batch.deduplicated_count',
  attempt: 'cachesaga.job.attempt',
  outcome: 'cachesaga.job.outcome',
  sagaId: 'cachesaga.saga.id',
  sagaStep: 'cachesaga.saga.step',
  invalidationId: 'cachesaga.invalidation.id',
  maintenanceTask: 'cachesaga.maintenance.task',
} as const

/** `messaging.system`: not one of the convention's well-known values, so the broker library's name. */
export const MESSAGING_SYSTEM = 'bullmq'

import type { Processor } from 'bullmq'
import { QueueError } from '../errors.js'
import type { DomainEventShape } from '../events/envelope.js'
import { invalidationJobs } from '../invalidation/invalidation-jobs.js'
import { maintenanceJobs } from '../maintenance/maintenance-jobs.js'
import { CACHE_MAINTENANCE_QUEUE, INVALIDATION_QUEUE } from '../queues/internal-queues.js'
import { consumerProcessor } from './consumer-processor.js'
import { eventJobs } from './event-jobs.js'
import type { EventHandler, WorkerHandlers } from './handlers.js'

/** One queue this process will run, and what kind of jobs it holds. */
export interface PlannedQueue {
  queue: string
  kind: 'events' | 'invalidation' | 'maintenance'
  processor: Processor
}

/**
 * Decides which queues run and with which processor: the `selected` queues, or by default every queue the handlers can
 * run (each queue of the catalog, `cache-invalidation` given an invalidator, `cache-maintenance` given a maintainer).
 * Refuses, naming what is missing, a selected queue nothing here can run: its jobs would only pile up.
 */
export function planQueues(
  handlers: WorkerHandlers,
  selected: readonly string[] | undefined,
): PlannedQueue[] {
  const { catalog, events = {}, invalidator, maintainer } = handlers
  if (catalog === undefined && Object.keys(events).length > 0) {
    throw new QueueError(
      'CSQ_ERR_INVALID_HANDLERS',
      'events need the catalog that defines them (catalog: ...)',
    )
  }
  const runnable = [
    ...(catalog?.queues ?? []),
    ...(invalidator === undefined ? [] : [INVALIDATION_QUEUE]),
    ...(maintainer === undefined ? [] : [CACHE_MAINTENANCE_QUEUE]),
  ]
  const known = [...(catalog?.queues ?? []), INVALIDATION_QUEUE, CACHE_MAINTENANCE_QUEUE]
  const queues = selected ?? runnable
  if (queues.length === 0) {
    throw new QueueError(
      'CSQ_ERR_INVALID_HANDLERS',
      'nothing to run: give a catalog with event handlers, an invalidator or a maintainer',
    )
  }
  return queues.map((queue, index) => {
    if (!known.includes(queue)) {
      throw new QueueError(
        'CSQ_ERR_INVALID_OPTIONS',
        `queues.${index}: "${queue}" is not a queue of this worker (expected one of ${known.join(', ')})`,
        { details: { field: `queues.${index}` } },
      )
    }
    if (queue === INVALIDATION_QUEUE) {
      if (invalidator === undefined) throw missing(queue, 'an invalidator (invalidator: cache)')
      return {
        queue,
        kind: 'invalidation',
        processor: consumerProcessor(queue, invalidationJobs(invalidator)),
      }
    }
    if (queue === CACHE_MAINTENANCE_QUEUE) {
      if (maintainer === undefined) throw missing(queue, 'a maintainer (maintainer: cache.warmer)')
      return { queue, kind: 'maintenance', processor: consumerProcessor(queue, maintenanceJobs(maintainer)) }
    }
    const byType = new Map<string, EventHandler<DomainEventShape>>()
    for (const type of catalog!.typesOn(queue)) {
      const handler = (events as Record<string, EventHandler<DomainEventShape> | undefined>)[type]
      if (handler === undefined) throw missing(queue, `a "${type}" handler`)
      byType.set(type, handler)
    }
    return { queue, kind: 'events', processor: consumerProcessor(queue, eventJobs(catalog!, queue, byType)) }
  })
}

function missing(queue: string, what: string): QueueError {
  return new QueueError(
    'CSQ_ERR_INVALID_HANDLERS',
    `queue ${queue} is selected but nothing here runs it: it needs ${what}`,
    {
      details: { queue },
    },
  )
}

import { randomUUID } from 'node:crypto'
import type { ConnectionOptions } from '../config.js'
import { QueueError } from '../errors.js'
import { parseDomainEvent } from '../events/parse.js'
import type { DomainEvent } from '../events/schemas.js'
import { QueueSet } from './queue-set.js'
import { jobOptionsFor, QUEUE_FOR_EVENT, type QueueName } from './routing.js'

export interface DispatchReceipt {
  eventId: string
  queue: QueueName
  jobId: string
  /** True when a pending job absorbed this event (same event id, or same calendar for syncs). */
  deduplicated: boolean
}

/** Validates domain events and enqueues each on its queue. */
export class Dispatcher {
  private readonly queues: QueueSet

  constructor(options: ConnectionOptions) {
    this.queues = new QueueSet(options)
  }

  /** Validates then enqueues one event; throws `CSQ_ERR_INVALID_EVENT` naming the field at fault. */
  async dispatch(input: unknown): Promise<DispatchReceipt> {
    const event = parseDomainEvent(input)
    const jobId = randomUUID()
    const job = await this.queues
      .get(QUEUE_FOR_EVENT[event.type])
      .add(event.type, event, jobOptionsFor(event, jobId))
    return receipt(event, jobId, job.id)
  }

  /**
   * Validates every event first (nothing is enqueued if one is invalid), then enqueues them with one
   * round trip per queue.
   */
  async dispatchAll(inputs: readonly unknown[]): Promise<DispatchReceipt[]> {
    const events = inputs.map((input, index) => {
      try {
        return parseDomainEvent(input)
      } catch (error) {
        throw new QueueError('CSQ_ERR_INVALID_EVENT', `events[${index}]: ${(error as QueueError).reason}`, {
          cause: error,
        })
      }
    })
    const byQueue = new Map<QueueName, number[]>()
    events.forEach((event, index) => {
      const name = QUEUE_FOR_EVENT[event.type]
      byQueue.set(name, [...(byQueue.get(name) ?? []), index])
    })
    const receipts: DispatchReceipt[] = []
    await Promise.all(
      [...byQueue].map(async ([name, indexes]) => {
        const batch = indexes.map((index) => ({ index, event: events[index]!, jobId: randomUUID() }))
        const jobs = await this.queues.get(name).addBulk(
          batch.map(({ event, jobId }) => ({
            name: event.type,
            data: event,
            opts: jobOptionsFor(event, jobId),
          })),
        )
        batch.forEach(({ index, event, jobId }, i) => {
          receipts[index] = receipt(event, jobId, jobs[i]?.id)
        })
      }),
    )
    return receipts
  }

  close(): Promise<void> {
    return this.queues.close()
  }
}

function receipt(event: DomainEvent, requestedJobId: string, jobId: string | undefined): DispatchReceipt {
  const actual = jobId ?? requestedJobId
  return {
    eventId: event.eventId,
    queue: QUEUE_FOR_EVENT[event.type],
    jobId: actual,
    deduplicated: actual !== requestedJobId,
  }
}

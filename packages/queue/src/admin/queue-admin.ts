import type { ConnectionOptions } from '../config.js'
import { QueueSet } from '../queues/queue-set.js'
import type { AnyQueueName } from '../queues/routing.js'
import {
  type DeadLetter,
  listDeadLetters,
  type PurgeRequest,
  purgeDeadLetters,
  requestPurge,
  retryAllDeadLetters,
  retryDeadLetter,
} from './dead-letters.js'
import { type QueueStats, readQueueStats } from './queue-stats.js'

/** Operator view of the queues: dead letters and observability. The CLI wires these up later. */
export class QueueAdmin {
  private readonly queues: QueueSet

  constructor(options: ConnectionOptions) {
    this.queues = new QueueSet(options)
  }

  /** Counts, processed/failed totals and per-minute rates over the last `minutes`, and the lag histogram. */
  stats(queue: AnyQueueName, minutes = 15): Promise<QueueStats> {
    return readQueueStats(this.queues.get(queue), this.queues.redis, minutes)
  }

  /** Failed jobs with their reasons, most recent first. */
  deadLetters(queue: AnyQueueName, limit = 100): Promise<DeadLetter[]> {
    return listDeadLetters(this.queues.get(queue), limit)
  }

  retry(queue: AnyQueueName, jobId: string): Promise<void> {
    return retryDeadLetter(this.queues.get(queue), jobId)
  }

  retryAll(queue: AnyQueueName): Promise<void> {
    return retryAllDeadLetters(this.queues.get(queue))
  }

  /** Step one of a purge: shows how many jobs would go and returns the token step two needs. */
  requestPurge(queue: AnyQueueName): Promise<PurgeRequest> {
    return requestPurge(this.queues.get(queue), this.queues.redis)
  }

  /** Step two: deletes the failed jobs counted by `requestPurge`, given its token. */
  purge(queue: AnyQueueName, token: string): Promise<number> {
    return purgeDeadLetters(this.queues.get(queue), this.queues.redis, token)
  }

  close(): Promise<void> {
    return this.queues.close()
  }
}

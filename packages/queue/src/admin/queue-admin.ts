import type { ProducerOptions } from '../config.js'
import { QueueSet } from '../queues/queue-set.js'
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

/**
 * Operator view of any queue under the prefix (a catalog's event queues, `cache-invalidation`, `cache-maintenance`):
 * dead letters and observability. Every call waits for Redis at most `timeout` (default 5 s).
 */
export class QueueAdmin {
  private readonly queues: QueueSet

  constructor(options: ProducerOptions) {
    // Producers and workers write the queue's meta; an operator's view leaves it as they wrote it.
    this.queues = new QueueSet(options, { writesMeta: false })
  }

  /** Counts, processed/failed totals and per-minute rates over the last `minutes`, and the lag histogram. */
  stats(queue: string, minutes = 15): Promise<QueueStats> {
    return this.queues.run(queue, (bull) => readQueueStats(bull, this.queues.connection.client, minutes))
  }

  /** Failed jobs with their reasons, most recent first. */
  deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    return this.queues.run(queue, (bull) => listDeadLetters(bull, limit))
  }

  /** Sends one failed job back to `wait`; `CSQ_ERR_UNKNOWN_JOB` when it is not in the failed set. */
  retry(queue: string, jobId: string): Promise<void> {
    return this.queues.run(queue, (bull) => retryDeadLetter(bull, jobId))
  }

  retryAll(queue: string): Promise<void> {
    return this.queues.run(queue, (bull) => retryAllDeadLetters(bull))
  }

  /** Step one of a purge: shows how many jobs would go and returns the token step two needs. */
  requestPurge(queue: string): Promise<PurgeRequest> {
    return this.queues.run(queue, (bull) => requestPurge(bull, this.queues.connection.client))
  }

  /** Step two: deletes the failed jobs counted by `requestPurge`, given its token (`CSQ_ERR_PURGE_TOKEN` otherwise). */
  purge(queue: string, token: string): Promise<number> {
    return this.queues.run(queue, (bull) => purgeDeadLetters(bull, this.queues.connection.client, token))
  }

  close(): Promise<void> {
    return this.queues.close()
  }
}

import { redisFailureReason } from '@cachesaga/common'
import type { Cluster, Redis } from 'ioredis'
import { isConnectionError } from '../redis/connection-errors.js'
import type { WorkerLog } from './worker-log.js'

/**
 * Logs Redis trouble once per change of state, not once per failed command: while Redis is down, ioredis reports
 * every reconnect attempt and each BullMQ worker every failed poll, which would flood the log with the same line.
 * `down` is logged on the first connection error after being up, `restored` on the next `ready`.
 */
export class ConnectionLog {
  private down = false
  private lastWorkerError = new Map<string, string>()

  constructor(
    private readonly client: Redis | Cluster,
    private readonly target: string,
    private readonly log: WorkerLog,
  ) {
    client.on('error', (error: Error) => this.connectionError(error))
    client.on('ready', () => {
      this.lastWorkerError.clear()
      if (!this.down) return
      this.down = false
      this.log('info', 'redis connection restored', { redis: target })
    })
  }

  /** A BullMQ worker's `error` event: connection trouble joins the state above, anything else is logged once in a row. */
  workerError(queue: string, error: Error): void {
    if (isConnectionError(error)) {
      // The worker's own blocking connection may lag behind ours; while ours is ready, it will recover too.
      if (this.client.status !== 'ready') this.connectionError(error)
      return
    }
    if (this.lastWorkerError.get(queue) === error.message) return
    this.lastWorkerError.set(queue, error.message)
    this.log('error', 'worker error', { queue, error: error.message })
  }

  private connectionError(error: Error): void {
    if (this.down) return
    this.down = true
    this.log('error', 'redis unreachable; retrying in the background', {
      redis: this.target,
      cause: redisFailureReason(error),
    })
  }
}

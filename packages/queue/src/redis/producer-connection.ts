import {
  closeRedis,
  describeRedis,
  openRedis,
  type RedisConnection,
  RedisUnreachableError,
  waitForRedis,
} from '@cachesaga/common'
import type { Cluster, Redis } from 'ioredis'
import { isConnectionError } from './connection-errors.js'

/**
 * The connection of everything that enqueues or inspects jobs, with every call bounded. A call first waits (bounded)
 * for Redis to be ready and only then sends anything, so a call that failed because Redis was unreachable enqueued
 * nothing. Past that point a timeout cannot say whether Redis applied the command: the caller may send it again, and
 * deduplication absorbs the copy while the first job is pending.
 */
export class ProducerConnection {
  readonly client: Redis | Cluster
  /** The connection as an error message names it, password redacted. */
  readonly target: string
  private lastError: unknown

  constructor(
    connection: RedisConnection,
    readonly timeoutMs: number,
  ) {
    this.target = describeRedis(connection)
    this.client = openRedis(connection, {
      commandTimeoutMs: timeoutMs,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    })
    // Kept for the error a caller gets; without a listener ioredis prints every reconnect failure to the console.
    this.client.on('error', (error: unknown) => {
      this.lastError = error
    })
    this.client.on('ready', () => {
      this.lastError = undefined
    })
  }

  /**
   * Runs `work` once Redis is ready, all of it within the timeout. Rejects with `RedisUnreachableError`
   * (`CS_ERR_REDIS_UNREACHABLE`, naming the redacted target and the last connection error) when Redis is not reachable
   * in time; any other failure of `work` (an answer from Redis, a bug) is passed on as it is.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    let expired = false
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true
        reject(this.unreachable(undefined))
      }, this.timeoutMs)
    })
    const attempt = async () => {
      await waitForRedis(this.client, { timeoutMs: this.timeoutMs, target: this.target })
      // Ready only after the deadline: the caller has its error already, so send nothing it does not expect.
      if (expired) throw this.unreachable(undefined)
      return work()
    }
    try {
      return await Promise.race([attempt(), deadline])
    } catch (error) {
      if (error instanceof RedisUnreachableError || !isConnectionError(error)) throw error
      throw this.unreachable(error)
    } finally {
      clearTimeout(timer)
    }
  }

  close(): Promise<void> {
    return closeRedis(this.client, this.timeoutMs)
  }

  private unreachable(cause: unknown): RedisUnreachableError {
    return new RedisUnreachableError(this.target, this.timeoutMs, cause ?? this.lastError)
  }
}

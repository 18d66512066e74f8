import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { type ConnectionOptions, connectionOptionsSchema, parseOptions } from '../config.js'
import { connectRedis } from './connection.js'
import type { AnyQueueName } from './routing.js'

/** BullMQ `Queue` handles over one Redis connection, opened on first use. */
export class QueueSet {
  readonly redis: Redis
  private readonly prefix: string
  private readonly queues = new Map<AnyQueueName, Queue>()

  constructor(options: ConnectionOptions) {
    const parsed = parseOptions(connectionOptionsSchema, options)
    this.redis = connectRedis(parsed.redisUrl, 'producer')
    this.prefix = parsed.prefix
  }

  get(name: AnyQueueName): Queue {
    let queue = this.queues.get(name)
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: this.prefix })
      this.queues.set(name, queue)
    }
    return queue
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()))
    this.redis.disconnect()
  }
}

import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { AnyQueueName } from '../index.js'

/** Raw BullMQ queue handles under a fresh prefix, so tests sharing a server never see each other's jobs. */
export function scopedQueues(redis: Redis) {
  const prefix = `t${randomUUID().slice(0, 8)}`
  const queues = new Map<AnyQueueName, Queue>()
  return {
    prefix,
    queue(name: AnyQueueName): Queue {
      if (!queues.has(name)) queues.set(name, new Queue(name, { connection: redis, prefix }))
      return queues.get(name)!
    },
    async close(): Promise<void> {
      await Promise.all([...queues.values()].map((queue) => queue.close()))
    },
  }
}

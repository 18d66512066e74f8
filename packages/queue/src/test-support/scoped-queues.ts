import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'

/**
 * Raw BullMQ queue handles under a fresh prefix, so tests sharing a server never see each other's jobs. The prefix is
 * a hash tag, as on a cluster it must be.
 */
export function scopedQueues(redis: Redis | Cluster) {
  const prefix = `{t${randomUUID().slice(0, 8)}}`
  const queues = new Map<string, Queue>()
  return {
    prefix,
    queue(name: string): Queue {
      if (!queues.has(name)) queues.set(name, new Queue(name, { connection: redis, prefix }))
      return queues.get(name)!
    },
    async close(): Promise<void> {
      await Promise.all([...queues.values()].map((queue) => queue.close()))
    },
  }
}

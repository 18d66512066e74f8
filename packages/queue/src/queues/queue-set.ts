import { Queue } from 'bullmq'
import { type ProducerOptions, parseOptions, producerOptionsSchema } from '../config.js'
import { ProducerConnection } from '../redis/producer-connection.js'
import { settleWithin } from '../redis/settle-within.js'

/** BullMQ `Queue` handles over one producer connection, each opened on first use; every call is bounded. */
export class QueueSet {
  readonly connection: ProducerConnection
  readonly prefix: string
  private readonly writesMeta: boolean
  private readonly queues = new Map<string, Queue>()

  /**
   * `writesMeta: false` for handles that only inspect and act on existing jobs (`QueueAdmin`): BullMQ would otherwise
   * write the queue's meta hash on opening, a write that a read-only Redis user is refused (see "Redis ACL").
   */
  constructor(options: ProducerOptions, { writesMeta = true }: { writesMeta?: boolean } = {}) {
    const parsed = parseOptions(producerOptionsSchema, options)
    this.connection = new ProducerConnection(parsed.redis, parsed.timeout)
    this.prefix = parsed.prefix
    this.writesMeta = writesMeta
  }

  /** Runs `work` on the queue `name` within the timeout (see `ProducerConnection.run`). */
  run<T>(name: string, work: (queue: Queue) => Promise<T>): Promise<T> {
    return this.connection.run(() => work(this.get(name)))
  }

  private get(name: string): Queue {
    let queue = this.queues.get(name)
    if (queue === undefined) {
      const created = new Queue(name, {
        connection: this.connection.client,
        prefix: this.prefix,
        skipMetasUpdate: !this.writesMeta,
      })
      // The connection's own listener keeps the cause; without one BullMQ prints each error with its stack.
      created.on('error', () => {})
      // A handle whose start-up failed stays failed in BullMQ: forget it, so the next call starts afresh.
      created.waitUntilReady().catch(() => {
        if (this.queues.get(name) === created) this.queues.delete(name)
      })
      this.queues.set(name, created)
      queue = created
    }
    return queue
  }

  async close(): Promise<void> {
    const { timeoutMs } = this.connection
    await Promise.all([...this.queues.values()].map((queue) => settleWithin(queue.close(), timeoutMs)))
    await this.connection.close()
  }
}

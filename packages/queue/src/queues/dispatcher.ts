import { randomUUID } from 'node:crypto'
import { CachesagaError } from '@cachesaga/common'
import type { TraceCarrier } from '@cachesaga/common/tracing'
import type { JobsOptions, Queue } from 'bullmq'
import { type ProducerOptions, parseOptions } from '../config.js'
import { QueueError } from '../errors.js'
import type { DomainEventShape } from '../events/envelope.js'
import type { AnyEventCatalog, DispatchEvent, QueueOf } from '../events/event-catalog.js'
import type { AnyEventDefinition } from '../events/event-definition.js'
import { type DispatchOptions, dispatchOptionsSchema, toBullJobOptions } from '../events/job-options.js'
import { withTraceCarrier } from '../tracing/job-trace-context.js'
import { ATTR, tracing } from '../tracing/queue-tracing.js'
import { sendInSpan } from '../tracing/send-span.js'
import { QueueSet } from './queue-set.js'

export interface DispatcherOptions<C extends AnyEventCatalog> extends ProducerOptions {
  /** The events this dispatcher accepts; anything else fails to compile, and to parse at run time. */
  catalog: C
}

export interface DispatchReceipt<Queue extends string = string> {
  eventId: string
  queue: Queue
  jobId: string
  /** True when a pending job absorbed this event (same deduplication key, by default the same event id). */
  deduplicated: boolean
}

/** One validated event on its way to a queue. */
interface Outgoing {
  event: DomainEventShape
  definition: AnyEventDefinition
  jobId: string
}

/** The events of one `dispatchAll` bound for one queue, with their places in the call's `events`. */
type Batch = { index: number; outgoing: Outgoing }[]

/**
 * Validates events against the catalog (upcasting older versions) and enqueues each on its definition's queue with its
 * definition's job options and deduplication. Every call waits for Redis at most `timeout` (default 5 s) and then fails
 * with `RedisUnreachableError` (`CS_ERR_REDIS_UNREACHABLE`), naming the Redis and the cause.
 *
 * With a tracer provider registered, each call to a queue is a PRODUCER span `send <queue>` whose context the jobs
 * carry, so the worker's span for each job is its child (see the README, "Tracing").
 */
export class Dispatcher<C extends AnyEventCatalog> {
  private readonly catalog: C
  private readonly queues: QueueSet

  constructor(options: DispatcherOptions<C>) {
    const { catalog, ...connection } = options
    this.catalog = catalog
    this.queues = new QueueSet(connection)
  }

  /**
   * Validates then enqueues one event; `options` may delay it or give it a priority. Throws `CSQ_ERR_INVALID_EVENT`
   * naming the field at fault, before anything is sent.
   */
  async dispatch(event: DispatchEvent<C>, options?: DispatchOptions): Promise<DispatchReceipt<QueueOf<C>>> {
    const outgoing = this.prepare(event)
    const overrides = dispatchOverrides(options)
    const tracer = tracing.tracer()
    if (tracer === undefined) return this.send(outgoing, overrides, undefined)
    const { event: sent, definition } = outgoing
    const attributes = {
      [ATTR.eventType]: sent.type,
      [ATTR.eventId]: sent.eventId,
      [ATTR.eventVersion]: sent.version,
    }
    return sendInSpan(tracer, definition.queue, attributes, async (carrier, span) => {
      const done = await this.send(outgoing, overrides, carrier)
      span.setAttributes({ [ATTR.messageId]: done.jobId, [ATTR.deduplicated]: done.deduplicated })
      return done
    })
  }

  /**
   * Validates every event first (nothing is enqueued if one is invalid: `events[3]: ...`), then enqueues them with one
   * round trip per queue, all within one timeout. Receipts come back in the order of `events`.
   */
  async dispatchAll(
    events: readonly DispatchEvent<C>[],
    options?: DispatchOptions,
  ): Promise<DispatchReceipt<QueueOf<C>>[]> {
    const overrides = dispatchOverrides(options)
    const byQueue = new Map<string, Batch>()
    events.forEach((event, index) => {
      let outgoing: Outgoing
      try {
        outgoing = this.prepare(event)
      } catch (error) {
        const { message, details } = error as QueueError
        throw new QueueError('CSQ_ERR_INVALID_EVENT', `events[${index}]: ${message}`, {
          cause: error,
          details: { ...details, index },
        })
      }
      const batch = byQueue.get(outgoing.definition.queue)
      if (batch === undefined) byQueue.set(outgoing.definition.queue, [{ index, outgoing }])
      else batch.push({ index, outgoing })
    })
    const receipts: DispatchReceipt<QueueOf<C>>[] = new Array(events.length)
    const tracer = tracing.tracer()
    await Promise.all(
      [...byQueue].map(([name, batch]) => {
        if (tracer === undefined) return this.sendBatch(name, batch, overrides, undefined, receipts)
        const attributes = {
          [ATTR.batchCount]: batch.length,
          [ATTR.eventTypes]: [...new Set(batch.map(({ outgoing }) => outgoing.event.type))],
        }
        return sendInSpan(tracer, name, attributes, async (carrier, span) => {
          await this.sendBatch(name, batch, overrides, carrier, receipts)
          const deduplicated = batch.filter(({ index }) => receipts[index]!.deduplicated).length
          span.setAttribute(ATTR.deduplicatedCount, deduplicated)
        })
      }),
    )
    return receipts
  }

  close(): Promise<void> {
    return this.queues.close()
  }

  private send(
    outgoing: Outgoing,
    overrides: JobsOptions | undefined,
    carrier: TraceCarrier | undefined,
  ): Promise<DispatchReceipt<QueueOf<C>>> {
    const { definition, event } = outgoing
    return this.enqueue(definition.queue, async (queue) => {
      const job = await queue.add(definition.type, event, jobOptions(outgoing, overrides, carrier))
      return receipt(outgoing, job.id)
    })
  }

  /** One round trip for the whole batch; writes each event's receipt at its place in `receipts`. */
  private sendBatch(
    name: string,
    batch: Batch,
    overrides: JobsOptions | undefined,
    carrier: TraceCarrier | undefined,
    receipts: DispatchReceipt<QueueOf<C>>[],
  ): Promise<void> {
    return this.enqueue(name, async (queue) => {
      const jobs = await queue.addBulk(
        batch.map(({ outgoing }) => ({
          name: outgoing.definition.type,
          data: outgoing.event,
          opts: jobOptions(outgoing, overrides, carrier),
        })),
      )
      batch.forEach(({ index, outgoing }, i) => {
        receipts[index] = receipt(outgoing, jobs[i]?.id)
      })
    })
  }

  private prepare(input: DispatchEvent<C>): Outgoing {
    const raw = input as Partial<DomainEventShape>
    const definition = typeof raw.type === 'string' ? this.catalog.definition(raw.type) : undefined
    // The typed input may leave `version` out: it is the latest, which is what the type describes.
    const versioned =
      raw.version === undefined && definition !== undefined
        ? { ...raw, version: definition.latestVersion }
        : raw
    const event = this.catalog.parse(versioned) as DomainEventShape
    return { event, definition: this.catalog.definition(event.type)!, jobId: randomUUID() }
  }

  private async enqueue<T>(name: string, work: (queue: Queue) => Promise<T>): Promise<T> {
    try {
      return await this.queues.run(name, work)
    } catch (error) {
      if (error instanceof CachesagaError) throw error
      const reason = error instanceof Error ? error.message : String(error)
      throw new QueueError(
        'CSQ_ERR_ENQUEUE_FAILED',
        `Redis at ${this.queues.connection.target} refused the job for queue ${name}: ${reason}`,
        { cause: error, details: { queue: name } },
      )
    }
  }
}

function dispatchOverrides(options: DispatchOptions | undefined): JobsOptions | undefined {
  return options === undefined
    ? undefined
    : toBullJobOptions(parseOptions(dispatchOptionsSchema, options, 'options'))
}

function jobOptions(
  { definition, event, jobId }: Outgoing,
  overrides: JobsOptions | undefined,
  carrier: TraceCarrier | undefined,
): JobsOptions {
  const options = {
    ...definition.jobOptions,
    ...overrides,
    jobId,
    deduplication: definition.deduplicationOf(event),
  }
  return withTraceCarrier(options, carrier)
}

function receipt<Q extends string>(
  { event, definition, jobId }: Outgoing,
  actual: string | undefined,
): DispatchReceipt<Q> {
  const id = actual ?? jobId
  return { eventId: event.eventId, queue: definition.queue as Q, jobId: id, deduplicated: id !== jobId }
}

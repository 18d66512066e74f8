import {
  type Duration,
  describeRedis,
  durationSchema,
  openRedis,
  type RedisConnection,
  RedisUnreachableError,
  waitForRedis,
} from '@cachesaga/common'
import { UnrecoverableError, Worker } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'
import { parseOptions, workerOptionsSchema } from '../config.js'
import type { DomainEventShape } from '../events/envelope.js'
import type { AnyEventCatalog, QueueOf } from '../events/event-catalog.js'
import { LagRecorder, lagHistogramKey } from '../metrics/lag-histogram.js'
import type { ReservedQueue } from '../queues/internal-queues.js'
import { settleWithin } from '../redis/settle-within.js'
import { bullWorkerOptions } from './bull-worker-settings.js'
import { closeWithDeadline } from './close-with-deadline.js'
import { ConnectionLog } from './connection-log.js'
import { warnUnlessNoeviction } from './eviction-policy.js'
import type { WorkerHandlers } from './handlers.js'
import { type PlannedQueue, planQueues } from './queue-plan.js'
import { jsonLinesLog, type WorkerLog } from './worker-log.js'

export interface WorkerGroup {
  /**
   * Stops taking jobs and waits for in-flight ones, at most `timeout` (default 30 s). BullMQ's own `close()` has no
   * deadline; when ours passes, the jobs still running are left to the stalled-job check of other workers (so their
   * handlers may run again: that is what the idempotency key is for) and `forced` is true. A process should exit
   * non-zero then.
   */
  close(options?: { timeout?: Duration }): Promise<{ forced: boolean }>
}

export interface StartWorkersOptions<C extends AnyEventCatalog> extends WorkerHandlers<C> {
  /** Redis for BullMQ: a URL, an ioredis `Redis` or `Cluster` (duplicated, never closed), or options. */
  redis: RedisConnection
  /** Key prefix of every queue; default `{cachesaga}` (a hash tag, so each queue's keys share a cluster slot). */
  prefix?: string
  /** Queues this process consumes. Default: every queue it has handlers for. */
  queues?: (QueueOf<C> | ReservedQueue)[]
  /** Jobs run in parallel per queue (`cache-maintenance` always runs one at a time). Default 8. */
  concurrency?: number
  /** How long a job's lock lasts without renewal before another worker may take it over. Default 10 s. */
  lockDuration?: Duration
  /** How often this worker looks for jobs whose lock expired. Default 5 s. */
  stalledInterval?: Duration
  /** Stalls a job may survive before it is moved to the failed set. Default 2. */
  maxStalledCount?: number
  /** How long start-up waits for Redis before it fails with `CS_ERR_REDIS_UNREACHABLE`. Default 10 s. */
  timeout?: Duration
  /** Where log entries go; default JSON lines on stderr. */
  log?: WorkerLog
}

/**
 * Starts one BullMQ worker per queue in this process: event queues call the catalog's handlers, `cache-invalidation`
 * the invalidator, `cache-maintenance` the maintainer. Resolves once every worker is ready; rejects within `timeout`
 * with `RedisUnreachableError` when Redis cannot be reached, having left nothing running. Once started, the workers
 * ride out Redis outages on their own (logged once when Redis goes and once when it is back).
 */
export async function startWorkers<C extends AnyEventCatalog = never>(
  options: StartWorkersOptions<C>,
): Promise<WorkerGroup> {
  const { catalog, events, invalidator, maintainer, log = jsonLinesLog, ...rest } = options
  const settings = parseOptions(workerOptionsSchema, rest)
  const plan = planQueues({ catalog, events, invalidator, maintainer }, settings.queues)

  const target = describeRedis(settings.redis)
  // The one connection BullMQ's workers share for non-blocking commands; each worker duplicates it for its blocking
  // ones. BullMQ requires maxRetriesPerRequest: null, and no command timeout (blocking commands wait on purpose).
  const client = openRedis(settings.redis, { maxRetriesPerRequest: null, lazyConnect: true })
  const connectionLog = new ConnectionLog(client, target, log)
  let lastError: unknown
  client.on('error', (error: unknown) => {
    lastError = error
  })
  const workers: Worker[] = []
  const lagRecorders: LagRecorder[] = []
  const release = async () => {
    await Promise.all(lagRecorders.map((lag) => lag.close().catch(() => undefined)))
    client.disconnect()
  }

  try {
    const unreachable = () =>
      new RedisUnreachableError(target, settings.timeout, lastError ?? 'start-up did not finish')
    await bounded(settings.timeout, unreachable, async () => {
      await waitForRedis(client, { timeoutMs: settings.timeout, target })
      for (const planned of plan) {
        workers.push(startWorker(planned, client, settings, connectionLog, log, lagRecorders))
      }
      await Promise.all(workers.map((worker) => worker.waitUntilReady()))
      await warnUnlessNoeviction(client, log)
    })
  } catch (error) {
    await settleWithin(Promise.all(workers.map((worker) => worker.close(true))), 1_000)
    await release()
    throw error
  }
  log('info', 'worker ready', {
    queues: plan.map(({ queue }) => queue),
    concurrency: settings.concurrency,
    pid: process.pid,
  })

  return {
    close: ({ timeout = '30s' } = {}) => closeWithDeadline(workers, release, durationSchema.parse(timeout)),
  }
}

function startWorker(
  { queue, kind, processor }: PlannedQueue,
  client: Redis | Cluster,
  settings: ReturnType<typeof parseOptions<typeof workerOptionsSchema>>,
  connectionLog: ConnectionLog,
  log: WorkerLog,
  lagRecorders: LagRecorder[],
): Worker {
  const concurrency = kind === 'maintenance' ? 1 : settings.concurrency
  const worker = new Worker(queue, processor, bullWorkerOptions(settings, client, concurrency))
  // Without an 'error' listener BullMQ prints each error with its stack; the connection log folds repeats.
  worker.on('error', (error) => connectionLog.workerError(queue, error))
  worker.on('stalled', (jobId) => log('warn', 'stalled job moved back to wait', { queue, jobId }))
  if (kind === 'events') {
    const lag = new LagRecorder(client, lagHistogramKey(settings.prefix, queue), (error) =>
      log('error', 'could not record lag', { queue, error: String(error) }),
    )
    lagRecorders.push(lag)
    worker.on('completed', (job) =>
      lag.record(Date.now() - Date.parse((job.data as DomainEventShape).occurredAt)),
    )
    worker.on('failed', (job, error) =>
      log('warn', 'job failed', { queue, jobId: job?.id, attempt: job?.attemptsMade, reason: error.message }),
    )
  } else if (kind === 'invalidation') {
    worker.on('failed', (job, error) => {
      const deadLettered =
        error instanceof UnrecoverableError ||
        (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1))
      log(
        deadLettered ? 'error' : 'warn',
        deadLettered ? 'invalidation dead-lettered' : 'invalidation failed, will retry',
        { queue, jobId: job?.id, attempt: job?.attemptsMade, reason: error.message },
      )
    })
  } else {
    worker.on('failed', (job, error) =>
      log('error', 'cache maintenance failed', { queue, jobId: job?.id, reason: error.message }),
    )
  }
  return worker
}

/** Runs start-up within `timeoutMs`: a Redis that stops answering half-way is reported as unreachable, not as a hang. */
async function bounded(
  timeoutMs: number,
  unreachable: () => Error,
  work: () => Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreachable()), timeoutMs)
  })
  try {
    await Promise.race([work(), deadline])
  } finally {
    clearTimeout(timer)
  }
}

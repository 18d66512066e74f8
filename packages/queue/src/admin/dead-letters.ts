import { randomUUID } from 'node:crypto'
import type { Queue } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'
import { QueueError } from '../errors.js'

export interface DeadLetter {
  jobId: string
  name: string
  data: unknown
  failedReason: string
  attemptsMade: number
  failedAt: number | undefined
}

/** Lets a purge go ahead only with the token that named what it would delete. */
export interface PurgeRequest {
  token: string
  /** Failed jobs at request time; the purge deletes only jobs that had failed by then. */
  count: number
  expiresInMs: number
}

const PURGE_TOKEN_TTL_MS = 60_000

function purgeTokenKey(queue: Queue, token: string): string {
  return `${queue.opts.prefix}:${queue.name}:cachesaga:purge:${token}`
}

/** The failed set is the dead-letter queue: jobs that used up their attempts or were unrecoverable. */
export async function listDeadLetters(queue: Queue, limit: number): Promise<DeadLetter[]> {
  const jobs = await queue.getFailed(0, limit - 1)
  return jobs.map((job) => ({
    jobId: job.id ?? '',
    name: job.name,
    data: job.data,
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    failedAt: job.finishedOn,
  }))
}

export async function retryDeadLetter(queue: Queue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId)
  if (!job || (await job.getState()) !== 'failed') {
    throw new QueueError('CSQ_ERR_UNKNOWN_JOB', `no failed job ${jobId} on queue ${queue.name}`)
  }
  await job.retry('failed')
}

export async function retryAllDeadLetters(queue: Queue): Promise<void> {
  await queue.retryJobs({ state: 'failed' })
}

/** First half of a purge: returns a short-lived token that `purgeDeadLetters` must be given back. */
export async function requestPurge(queue: Queue, redis: Redis | Cluster): Promise<PurgeRequest> {
  const token = randomUUID()
  const requestedAt = Date.now()
  await redis.set(purgeTokenKey(queue, token), String(requestedAt), 'PX', PURGE_TOKEN_TTL_MS)
  return { token, count: await queue.getFailedCount(), expiresInMs: PURGE_TOKEN_TTL_MS }
}

/**
 * Deletes the jobs that had failed when the token was issued; later failures are kept, since nobody
 * confirmed those. GETDEL consumes the token atomically, so it works once. Returns how many were deleted.
 */
export async function purgeDeadLetters(queue: Queue, redis: Redis | Cluster, token: string): Promise<number> {
  const requestedAt = await redis.getdel(purgeTokenKey(queue, token))
  if (requestedAt === null) {
    throw new QueueError('CSQ_ERR_PURGE_TOKEN', `purge token for ${queue.name} is unknown, used or expired`)
  }
  const graceMs = Math.max(0, Date.now() - Number(requestedAt))
  const removed = await queue.clean(graceMs, 0, 'failed')
  return removed.length
}

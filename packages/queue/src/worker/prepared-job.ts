import type { Job } from 'bullmq'

/** A job read and validated, ready to run: what it is (its span's attributes) and the work it asks for. */
export interface PreparedJob {
  attributes: Record<string, string | number | boolean>
  run(): Promise<unknown>
}

/**
 * Reads a job of one queue. Throws, with a coded `QueueError`, a job that can never run (a payload that does not
 * parse, an event not routed to this queue): the worker fails it at once, without retries.
 */
export type JobReader = (job: Job) => PreparedJob

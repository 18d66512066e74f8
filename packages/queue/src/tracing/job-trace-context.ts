import { extractTraceCarrier, type TraceCarrier } from '@cachesaga/common/tracing'
import type { Context } from '@opentelemetry/api'
import type { Job, JobsOptions } from 'bullmq'

/**
 * Where a job carries the trace context of the span that enqueued it: BullMQ's own `opts.telemetry.metadata`, stored
 * with the job (as `tm`) and read back by the worker, never the event, which is the application's. The value is the
 * propagator's fields as an object, as BullMQ's own OpenTelemetry add-on (bullmq-otel) writes it, so a job enqueued by
 * a plain BullMQ producer with that add-on is traced here too, and the other way round. This module alone knows where.
 */
export function withTraceCarrier(options: JobsOptions, carrier: TraceCarrier | undefined): JobsOptions {
  if (carrier === undefined) return options
  // BullMQ types the metadata as a string; it stores whatever its context manager returns, an object for bullmq-otel.
  return { ...options, telemetry: { metadata: carrier as unknown as string } }
}

/**
 * The context a job carries, validated like the rest of the job: `undefined` when it carries none (a producer without
 * tracing, a job of a scheduler), or what is wrong with it.
 */
export function jobTraceContext(job: Job): { context: Context } | { problem: string } | undefined {
  const metadata: unknown = job.opts.telemetry?.metadata
  return metadata === undefined ? undefined : extractTraceCarrier(metadata)
}

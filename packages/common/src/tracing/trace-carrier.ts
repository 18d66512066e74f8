import type { Context } from '@opentelemetry/api'
import { z } from 'zod'
import { describeIssues } from '../zod/describe-issues.js'
import { otel } from './otel-api.js'

/**
 * The fields a propagator writes to carry a trace across a process boundary, by field name: with the SDK's default
 * propagator the W3C Trace Context `traceparent` (and `tracestate`, `baggage` when there are any). It travels inside
 * what crosses the boundary (a job's options, a saga record), never inside the application's own data.
 */
export type TraceCarrier = Record<string, string>

/** `version-traceid-parentid-flags`, lowercase hex (W3C Trace Context, section 3.2). */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/

/**
 * A carrier from outside is bounded like any input: a few header-like fields of bounded size (W3C caps `baggage` at
 * 8192 bytes), and a `traceparent` of the W3C form. The propagator checks the rest (an all-zero trace id, say).
 */
const traceCarrierSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a lowercase header name'),
    z.string().max(8192),
  )
  .refine((fields) => Object.keys(fields).length <= 16, 'expected at most 16 fields')
  .refine((fields) => fields.traceparent === undefined || TRACEPARENT.test(fields.traceparent), {
    message: 'expected version-traceid-parentid-flags in lowercase hex',
    path: ['traceparent'],
  })

/**
 * The propagator's fields for `context` (default: the active one), or undefined when it wrote none: no propagator is
 * registered (the API alone propagates nothing), or there is no span to carry. Only called with a tracer.
 */
export function injectTraceCarrier(context?: Context): TraceCarrier | undefined {
  const api = otel!
  const carrier: TraceCarrier = {}
  api.propagation.inject(context ?? api.context.active(), carrier)
  return Object.keys(carrier).length > 0 ? carrier : undefined
}

/**
 * The context a carrier from outside holds, on top of the root context (never on whatever context happens to be
 * active where it is read: a worker's ambient context is no parent of the job's), or what is wrong with it, naming
 * the field. Only called with a tracer.
 */
export function extractTraceCarrier(input: unknown): { context: Context } | { problem: string } {
  const parsed = traceCarrierSchema.safeParse(input)
  if (!parsed.success) return { problem: describeIssues(parsed.error.issues) }
  const api = otel!
  return { context: api.propagation.extract(api.ROOT_CONTEXT, parsed.data) }
}

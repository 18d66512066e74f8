import { injectTraceCarrier, inSpan, otel, type TraceCarrier } from '@cachesaga/common/tracing'
import type { Attributes, Span, Tracer } from '@opentelemetry/api'
import { ATTR, MESSAGING_SYSTEM } from './queue-tracing.js'

/**
 * Runs `send` in a PRODUCER span `send <queue>` and hands it that span's context as a carrier for the jobs: each job's
 * `process` span in a worker becomes its child (the span is the jobs' creation context, in the words of
 * OpenTelemetry's messaging conventions). `send` may add to the span what it learned, such as the job id.
 */
export function sendInSpan<T>(
  tracer: Tracer,
  queue: string,
  attributes: Attributes,
  send: (carrier: TraceCarrier | undefined, span: Span) => Promise<T>,
): Promise<T> {
  const options = {
    kind: otel!.SpanKind.PRODUCER,
    attributes: {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.destination]: queue,
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: 'send',
      ...attributes,
    },
  }
  return inSpan(tracer, `send ${queue}`, options, (span) => send(injectTraceCarrier(), span))
}

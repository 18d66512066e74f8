import { context, propagation, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'

/**
 * Registers an SDK tracer provider for the enclosing suite, as an application does (with the SDK's defaults: an
 * AsyncLocalStorage context manager and the W3C propagator), and keeps the finished spans in memory.
 */
export function recordSpans() {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  beforeAll(() => provider.register())
  beforeEach(() => exporter.reset())
  afterAll(async () => {
    await provider.shutdown()
    trace.disable()
    context.disable()
    propagation.disable()
  })
  return {
    finished: (): ReadableSpan[] => exporter.getFinishedSpans(),
    named: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name),
    /** The one finished span of that name; fails when there is none or several. */
    one(name: string): ReadableSpan {
      const found = exporter.getFinishedSpans().filter((span) => span.name === name)
      expect(found.map((span) => span.name)).toEqual([name])
      return found[0]!
    },
  }
}

/** Whether `child` is a child of `parent`: same trace, and `parent` is its parent span. */
export function isChildOf(child: ReadableSpan | undefined, parent: ReadableSpan | undefined): boolean {
  if (child === undefined || parent === undefined) return false
  const { traceId, spanId } = parent.spanContext()
  return child.spanContext().traceId === traceId && child.parentSpanContext?.spanId === spanId
}

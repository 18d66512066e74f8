import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { context, propagation, trace } from '@opentelemetry/api'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'

/** The spans a recorder kept since it started (or since `reset`), in the order they ended. */
export interface SpanRecorder {
  finished(): ReadableSpan[]
  named(name: string): ReadableSpan[]
  /** The one finished span of that name; throws, listing what ended, when there is none or several. */
  one(name: string): ReadableSpan
  reset(): void
  /** Shuts the provider down and unregisters it (and the context manager and propagator) from the global API. */
  stop(): Promise<void>
}

/**
 * Registers an OpenTelemetry SDK tracer provider the way an application does (`NodeTracerProvider.register()`: an
 * AsyncLocalStorage context manager and the W3C propagator) and keeps every finished span in memory, for tests that
 * assert spans, their attributes and who is whose parent. One per process at a time: the registration is global.
 */
export function startSpanRecorder(): SpanRecorder {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  provider.register()
  return {
    finished: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((span) => span.name === name),
    one: (name) => {
      const spans = exporter.getFinishedSpans()
      const found = spans.filter((span) => span.name === name)
      if (found.length === 1) return found[0]!
      const ended = spans.map((span) => span.name).join(', ') || 'none'
      throw new Error(`expected one span "${name}", found ${found.length} (ended: ${ended})`)
    },
    reset: () => exporter.reset(),
    stop: async () => {
      await provider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}

/** A finished span as another process wrote it (`SpanFileExporter`): names, attributes and who is whose parent. */
export interface FiledSpan {
  name: string
  kind: number
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  attributes: Record<string, unknown>
}

/** Whether `child` is a child of `parent`: the same trace, and `parent` is its parent span. */
export function isChildOf(
  child: ReadableSpan | FiledSpan | undefined,
  parent: ReadableSpan | FiledSpan | undefined,
): boolean {
  if (child === undefined || parent === undefined) return false
  const [own, of] = [ids(child), ids(parent)]
  return own.traceId === of.traceId && own.parentSpanId === of.spanId
}

function ids(span: ReadableSpan | FiledSpan): Omit<FiledSpan, 'name' | 'kind' | 'attributes'> {
  if ('traceId' in span) return span
  const { traceId, spanId } = span.spanContext()
  return { traceId, spanId, parentSpanId: span.parentSpanContext?.spanId }
}

/**
 * Appends each finished span to a file as a JSON line, synchronously, so that a child process stopped at any moment
 * has written every span it ended: how a test reads the spans of a worker process it started. Register it in the
 * child with `new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new SpanFileExporter(path))] })`.
 */
export class SpanFileExporter implements SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    const lines = spans.map((span) => {
      const filed: FiledSpan = { name: span.name, kind: span.kind, ...ids(span), attributes: span.attributes }
      return JSON.stringify(filed)
    })
    appendFileSync(this.path, `${lines.join('\n')}\n`)
    done({ code: 0 }) // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}

/** The spans a `SpanFileExporter` wrote to `path` so far (none when it wrote nothing yet). */
export function readSpanFile(path: string): FiledSpan[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FiledSpan)
}

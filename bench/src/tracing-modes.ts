import { PackageTracing } from '@cachesaga/common/tracing'
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { median } from './measure.js'

/**
 * The three ways an application runs cachesaga's tracing: no provider registered (no OpenTelemetry, or not yet
 * started), a provider registered that samples nothing, and one that samples everything. Each is registered as an
 * application does (`NodeTracerProvider.register()`: an AsyncLocalStorage context manager and the W3C propagator).
 * `context` registers the context manager alone, in use, and no provider: cachesaga then traces nothing, and what it
 * costs is the context manager's, paid by every promise of the process whoever traces (where the traced modes' time
 * goes).
 */
export const TRACING_MODES = ['off', 'context', 'unsampled', 'sampled'] as const
export type TracingMode = (typeof TRACING_MODES)[number]

export const TRACING_LABELS: Record<TracingMode, string> = {
  off: 'no tracer provider registered',
  context: "the SDK's context manager alone (AsyncLocalStorage), no provider",
  unsampled: 'provider registered, sampling off (`AlwaysOffSampler`)',
  sampled: 'provider registered, every span sampled (`BatchSpanProcessor`; spans dropped at export)',
}

/** An exporter that counts the spans it is handed and drops them: the SDK's full cost, without a network. */
class CountingExporter implements SpanExporter {
  spans = 0
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.spans += spans.length
    done({ code: 0 }) // ExportResultCode.SUCCESS
  }
  async shutdown(): Promise<void> {}
}

let active: {
  mode: TracingMode
  provider?: NodeTracerProvider
  exporter?: CountingExporter
  contextManager?: AsyncLocalStorageContextManager
} = { mode: 'off' }

/** Registers the provider of `mode` (unregistering the previous one) and resets the span count. */
export async function useTracing(mode: TracingMode): Promise<void> {
  if (active.provider) {
    await active.provider.shutdown()
    trace.disable()
    context.disable()
    propagation.disable()
  }
  if (active.contextManager) context.disable()
  active = { mode }
  if (mode === 'off') return
  if (mode === 'context') {
    const contextManager = new AsyncLocalStorageContextManager().enable()
    context.setGlobalContextManager(contextManager)
    // Entered once, as any instrumentation of the application (an HTTP server's) does on its first request: from then
    // on AsyncLocalStorage follows every promise of the process (on Node 20, through async hooks).
    context.with(ROOT_CONTEXT, () => undefined)
    active = { mode, contextManager }
    return
  }
  const exporter = new CountingExporter()
  const provider = new NodeTracerProvider({
    sampler: mode === 'sampled' ? new AlwaysOnSampler() : new AlwaysOffSampler(),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536 })],
  })
  provider.register()
  active = { mode, provider, exporter }
}

/** Spans exported since the mode was set (flushing what the batch processor still holds). */
export async function exportedSpans(): Promise<number> {
  await active.provider?.forceFlush()
  return active.exporter?.spans ?? 0
}

/**
 * Nanoseconds one "is a tracer provider registered?" check costs with none registered: all the work a traced call
 * adds then (one check per dispatch or `dispatchAll` queue, per job, per saga run and per step attempt). Median of 5.
 */
export function offCheckNs(): number {
  const tracing = new PackageTracing(new URL('../package.json', import.meta.url))
  const calls = 2_000_000
  const runs: number[] = []
  let found = 0
  for (let run = 0; run < 5; run++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) if (tracing.tracer() !== undefined) found++
    runs.push(Number(process.hrtime.bigint() - started) / calls)
  }
  if (found > 0) throw new Error('a tracer provider is registered: the check measures the wrong path')
  return median(runs)
}

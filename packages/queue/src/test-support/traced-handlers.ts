// Handlers module for the tracing test of `cachesaga-worker`. It enables tracing the way an application can: by
// registering an SDK tracer provider in the module the worker loads (before any job runs). Finished spans go to the
// file named by SPANS_FILE, where the test reads them.
import { SpanFileExporter } from '@cachesaga/testkit'
import { trace } from '@opentelemetry/api'
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { defineHandlers } from '../index.js'
import { appCatalog } from './app-events.js'

new NodeTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new SpanFileExporter(process.env.SPANS_FILE ?? ''))],
}).register()

export default defineHandlers({
  catalog: appCatalog,
  events: {
    'booking.created': () => trace.getTracer('the application').startSpan('write the booking').end(),
    'booking.cancelled': () => {},
    'booking.rescheduled': () => {},
  },
})

// `@cachesaga/common/tracing`: what the cachesaga packages share to trace with OpenTelemetry. A subpath of its own, so
// that the main entry's types never name `@opentelemetry/api`, which an application may not have installed.
export { type OtelApi, otel } from './otel-api.js'
export { inSpan, PackageTracing, recordFailure } from './package-tracing.js'
export { extractTraceCarrier, injectTraceCarrier, type TraceCarrier } from './trace-carrier.js'

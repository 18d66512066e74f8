import { readFileSync } from 'node:fs'
import type {
  Context,
  ProxyTracerProvider,
  Span,
  SpanOptions,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api'
import { errorCode } from '../errors/cachesaga-error.js'
import { otel } from './otel-api.js'

/** What the API hands out while no provider is registered (a fresh proxy has no delegate): the mark of "off". */
const NOOP_PROVIDER = otel && new otel.ProxyTracerProvider().getDelegate()

/**
 * The tracer of one cachesaga package, named and versioned after its package.json. `tracer()` looks up the registered
 * provider on every call, so a provider registered (or disabled) after this module loaded takes effect at once. While
 * none is registered (or the API is not installed) it answers undefined after a few property reads, and the caller
 * skips every bit of span work: no attributes, no context, no closure.
 *
 * ```ts
 * const tracer = tracing.tracer()
 * if (tracer === undefined) return work()
 * return inSpan(tracer, 'send booking', { kind: otel!.SpanKind.PRODUCER, attributes }, (span) => work())
 * ```
 */
export class PackageTracing {
  readonly name: string
  readonly version: string
  private provider: TracerProvider | undefined
  private current: Tracer | undefined

  /** @param manifest the package's own package.json, e.g. `new URL('../../package.json', import.meta.url)`. */
  constructor(manifest: URL) {
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; version: string }
    this.name = name
    this.version = version
  }

  /** The tracer when a tracer provider is registered; undefined when there is none: then do nothing else. */
  tracer(): Tracer | undefined {
    if (otel === undefined) return undefined
    // The global is always the API's proxy; its delegate is the provider the application registered, if any.
    const proxy = otel.trace.getTracerProvider() as Partial<ProxyTracerProvider> & TracerProvider
    const provider = proxy.getDelegate?.() ?? proxy
    if (provider === NOOP_PROVIDER) return undefined
    if (provider !== this.provider) {
      this.provider = provider
      this.current = provider.getTracer(this.name, this.version)
    }
    return this.current
  }
}

/**
 * Runs `work` in a new span that is the current one while it runs, so the spans started inside (by this package, or
 * by the application's instrumented clients: pg, http, ioredis) are its children. The span's parent is `parent`, by
 * default the active context. A rejection is recorded on the span (`recordFailure`) and rethrown; the span always ends.
 * Only called with a tracer, hence with the API loaded.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  const api = otel!
  const base = parent ?? api.context.active()
  const span = tracer.startSpan(name, options, base)
  return api.context.with(api.trace.setSpan(base, span), async () => {
    try {
      return await work(span)
    } catch (error) {
      recordFailure(span, error)
      throw error
    } finally {
      span.end()
    }
  })
}

/**
 * Marks a span failed. `error.type` (the OpenTelemetry attribute for the class of an error) is `code` when given, else
 * the error's own `code` field, else its class name: read from fields, never from the message. The exception itself
 * goes on the span as an event, and its message becomes the status description.
 */
export function recordFailure(span: Span, error: unknown, code?: string): void {
  const isError = error instanceof Error
  span.setAttribute('error.type', code ?? errorCode(error) ?? (isError ? error.name : '_OTHER'))
  span.recordException(isError ? error : String(error))
  span.setStatus({ code: otel!.SpanStatusCode.ERROR, message: isError ? error.message : String(error) })
}

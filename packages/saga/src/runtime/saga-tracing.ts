import { extractTraceCarrier, inSpan, otel, PackageTracing, recordFailure } from '@cachesaga/common/tracing'
import type { Context, Link, Span, Tracer } from '@opentelemetry/api'
import type { SagaStep } from '../definition/step.js'
import type { RecordedError } from '../errors.js'
import type { SagaRecord, SagaState } from '../store/saga-record.js'
import type { FailureKind } from './failure.js'

/** The tracer of @cachesaga/saga; off (undefined) while the application registered no tracer provider. */
export const tracing = new PackageTracing(new URL('../../package.json', import.meta.url))

/** Every span attribute this package sets, by one name each (the README lists them). */
export const ATTR = {
  sagaName: 'cachesaga.saga.name',
  sagaId: 'cachesaga.saga.id',
  run: 'cachesaga.saga.run',
  state: 'cachesaga.saga.state',
  step: 'cachesaga.saga.step',
  stepKind: 'cachesaga.saga.step.kind',
  phase: 'cachesaga.saga.phase',
  attempt: 'cachesaga.saga.attempt',
  outcome: 'cachesaga.saga.outcome',
  failureKind: 'cachesaga.saga.failure_kind',
  domainCode: 'cachesaga.error.domain_code',
} as const

/**
 * How a runner came to drive a saga: `new` (this call created it), `resumed` (it took over a record: the same id run
 * again, an operator's retry, a recovery sweep), `recorded` (the saga had already ended; its outcome was read back).
 */
export type RunKind = 'new' | 'resumed' | 'recorded'

/**
 * Runs one drive of a saga in a span `saga <name>`: the child of the caller's context (`parent`, by default the active
 * one: the request that runs the saga), with links to other traces the saga belongs to. The steps' spans are its
 * children. `work` returns the state the saga rests in (undefined when another runner took it over), which ends up on
 * the span.
 */
export function driveInSpan<T extends { state: SagaState } | undefined>(
  tracer: Tracer,
  saga: { name: string; sagaId: string },
  work: (span: Span) => Promise<T>,
  options: { parent?: Context; links?: Link[] } = {},
): Promise<T> {
  const spanOptions = {
    kind: otel!.SpanKind.INTERNAL,
    attributes: { [ATTR.sagaName]: saga.name, [ATTR.sagaId]: saga.sagaId },
    ...(options.links && { links: options.links }),
  }
  return inSpan(
    tracer,
    `saga ${saga.name}`,
    spanOptions,
    async (span) => {
      const outcome = await work(span)
      if (outcome !== undefined) span.setAttribute(ATTR.state, outcome.state)
      return outcome
    },
    options.parent,
  )
}

/**
 * Links a run's span to the trace the saga was started in, when its record kept that context (`traceCarrier`): a
 * recovery sweep, an operator's retry or a duplicate request then points back at the request that began the saga.
 * A kept context that does not validate is left out, with a `cachesaga.trace_context_rejected` event saying why.
 */
export function linkToOrigin(span: Span, record: SagaRecord): void {
  if (record.traceCarrier === undefined) return
  const carried = extractTraceCarrier(record.traceCarrier)
  if ('problem' in carried) {
    span.addEvent('cachesaga.trace_context_rejected', { reason: carried.problem })
    return
  }
  const origin = otel!.trace.getSpanContext(carried.context)
  if (origin !== undefined && otel!.trace.isSpanContextValid(origin)) span.addLink({ context: origin })
}

/** Starts the span of one attempt of a step (`step <name>`) or of its compensation (`compensate <name>`). */
export function startAttemptSpan(
  tracer: Tracer,
  saga: { name: string; sagaId: string },
  phase: 'step' | 'compensation',
  step: SagaStep,
  attempt: number,
): Span {
  return tracer.startSpan(`${phase === 'step' ? 'step' : 'compensate'} ${step.name}`, {
    attributes: {
      [ATTR.sagaName]: saga.name,
      [ATTR.sagaId]: saga.sagaId,
      [ATTR.step]: step.name,
      [ATTR.stepKind]: step.kind,
      [ATTR.phase]: phase,
      [ATTR.attempt]: attempt,
    },
  })
}

/** Runs an attempt with its span as the current one, so what the step calls (a cache, a queue, pg) is its child. */
export function withinSpan<T>(span: Span | undefined, work: () => Promise<T>): Promise<T> {
  if (span === undefined) return work()
  const api = otel!
  return api.context.with(api.trace.setSpan(api.context.active(), span), work)
}

/**
 * How an attempt ended: `completed`; `retrying` (a transient failure with attempts left); `rejected` (the domain said
 * no); `failed` (for good: deterministic, or out of attempts); `interrupted` (the runner lost the saga's lease).
 */
export type AttemptEnd =
  | { outcome: 'completed' }
  | { outcome: 'retrying' | 'failed' | 'rejected'; kind: FailureKind; error: RecordedError; thrown: unknown }
  | { outcome: 'interrupted'; thrown: unknown }

/** Ends an attempt's span with its outcome; a failure with the recorded code as `error.type`, and the domain code. */
export function endAttemptSpan(span: Span | undefined, end: AttemptEnd): void {
  if (span === undefined) return
  span.setAttribute(ATTR.outcome, end.outcome)
  if (end.outcome === 'interrupted') recordFailure(span, end.thrown)
  else if (end.outcome !== 'completed') {
    span.setAttribute(ATTR.failureKind, end.kind)
    if (end.error.domainCode !== undefined) span.setAttribute(ATTR.domainCode, end.error.domainCode)
    recordFailure(span, end.thrown, end.error.code)
  }
  span.end()
}

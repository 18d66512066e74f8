import type { RecordedError } from './errors.js'
import type { SagaState } from './store/saga-record.js'

/** Every transition a runner announces, emitted after it is durably recorded. */
export type SagaEventName =
  | 'saga.started'
  | 'saga.resumed'
  | 'saga.compensating'
  | 'saga.completed'
  | 'saga.compensated'
  | 'saga.parked'
  | 'saga.compensation_failed'
  | 'step.started'
  | 'step.completed'
  | 'step.failed'
  | 'compensation.started'
  | 'compensation.completed'
  | 'compensation.failed'
  /** A compensation with nothing it could do (an invalidation whose target the cache refused), with the reason. */
  | 'compensation.skipped'
  | 'invalidation.deferred'
  /** A deferred invalidation failed again when the default scheduler retried it; a later sweep tries again. */
  | 'invalidation.retry_failed'
  /** A sweep could not resume a saga (or, with an empty `sagaId`, could not read Redis at all). */
  | 'recovery.failed'
  | 'operator.retry'
  | 'operator.skip'
  | 'operator.resolve'

export interface SagaEvent {
  sagaId: string
  /** The saga definition's name. */
  saga: string
  step?: string
  /** Attempt number of a step or compensation event. */
  attempt?: number
  state?: SagaState
  error?: RecordedError
  /** Who took an operator action. */
  actor?: string
}

/**
 * Anything with `emit(name, payload)`: a node EventEmitter, the `EventBus` of @cachesaga/queue (its signal channel),
 * a test recorder. `emit` may return a promise (an async bus); the runner does not wait for it.
 */
export interface SagaEventEmitter {
  emit(name: SagaEventName, event: SagaEvent): unknown
}

/**
 * Emits without letting a failing listener break the saga: the transition is already recorded either way. Neither a
 * throw nor a rejected promise from `emit` escapes (a rejection left unhandled would end the process).
 */
export function emitSagaEvent(
  emitter: SagaEventEmitter | undefined,
  name: SagaEventName,
  event: SagaEvent,
): void {
  try {
    const returned = emitter?.emit(name, event)
    if (isThenable(returned)) returned.then(undefined, ignore)
  } catch {
    // A broken listener must not decide the fate of a booking; the log in Redis still has the transition.
  }
}

const ignore = () => {}
const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null | undefined)?.then === 'function'

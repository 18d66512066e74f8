import type { RecordedError } from '../errors.js'

/** Every state a saga can be in, in lifecycle order: for listings, metrics and validation. */
export const SAGA_STATES = [
  'running',
  'compensating',
  'completed',
  'compensated',
  'parked',
  'compensation_failed',
  'resolved',
] as const

/** Where a saga stands. `parked` and `compensation_failed` wait for an operator; the other resting states are final. */
export type SagaState = (typeof SAGA_STATES)[number]

/** The resting states that are the end: kept for the retention, then forgotten. */
export const FINAL_STATES = ['completed', 'compensated', 'resolved'] as const

/**
 * `started`: recorded before the side effect. `failed`, `rejected`: the attempt failed (a rejection changed nothing).
 * `deferred`: an invalidation was handed to the retry scheduler (the step still completes). `skipped`: an operator
 * skipped it, or a compensation had nothing it could do (an invalidation whose target the cache refused).
 */
export type PhaseStatus = 'started' | 'completed' | 'failed' | 'rejected' | 'deferred' | 'skipped'

/** The log of one step, or of one step's compensation. */
export interface PhaseRecord {
  status: PhaseStatus
  /** Failures counted toward the retry budget (reset by an operator retry). */
  failures: number
  /** The recorded result (steps only), JSON round-tripped. */
  result?: unknown
  /** The last failure of this phase. */
  error?: RecordedError
}

/** A saga as its store keeps it. */
export interface SagaRecord {
  sagaId: string
  name: string
  input: unknown
  state: SagaState
  createdAt: number
  updatedAt: number
  /** The step a parked or compensation_failed saga waits on. */
  parkedStep?: string
  /** The failure that sent the saga into compensation or parking. */
  error?: RecordedError
  /** Invalidations handed to the retry scheduler. */
  deferredInvalidations: number
  /** The trace context the saga was started in, as `NewSaga.traceCarrier` gave it (when the store keeps it). */
  traceCarrier?: Record<string, string>
  steps: Map<string, PhaseRecord>
  compensations: Map<string, PhaseRecord>
}

/** One entry of a saga's log. */
export interface SagaLogEntry {
  at: number
  /** e.g. `saga.started`, `step.completed`, `compensation.failed`, `saga.parked`, `operator.retry`. */
  event: string
  step?: string
  /** The attempt a step or compensation entry belongs to. */
  attempt?: number
  state?: SagaState
  error?: RecordedError
  actor?: string
  note?: string
}

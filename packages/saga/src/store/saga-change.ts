import type { RecordedError } from '../errors.js'
import type { PhaseStatus, SagaRecord, SagaState } from './saga-record.js'
import type { NewSaga } from './saga-store.js'

/** A transition of one step or of its compensation. */
export interface PhaseChange {
  kind: 'phase'
  phase: 'step' | 'compensation'
  step: string
  status: PhaseStatus
  /** The attempt this transition belongs to (logged; the retry budget counts `failed` transitions). */
  attempt?: number
  /** The step's result as JSON (`completed` steps). */
  resultJson?: string
  /** The failure of a `failed` or `rejected` attempt (only `failed` uses up an attempt of the retry budget). */
  error?: RecordedError
}

/** A move of the saga to another state; resting states release the lease. */
export interface StateChange {
  kind: 'state'
  state: SagaState
  /** The failure that caused the move (compensating, parked, compensation_failed). */
  error?: RecordedError
  /** The step that failed; a parked or compensation_failed saga waits on it. */
  step?: string
}

/**
 * One unit of durable progress is a list of changes applied in order, atomically and fenced by the lease: e.g. "step
 * `charge` completed, step `commit` started", or "step `commit` rejected, the saga is compensating". Writing a step's
 * completion together with the next step's start halves the writes without weakening the rule: a start is still
 * recorded before its side effect, a completion before it is announced.
 */
export type SagaChange = PhaseChange | StateChange

/** Whether a parked or compensation_failed saga waits on the step of a state change. */
export const waitsOnStep = (state: SagaState) => state === 'parked' || state === 'compensation_failed'

/**
 * Applies changes to a record in memory, as a store applies them durably: a driver keeps its copy current with this
 * after every write, so it never reads back what it wrote. `now` stamps `updatedAt`.
 */
export function applyChanges(record: SagaRecord, changes: readonly SagaChange[], now = Date.now()): void {
  for (const change of changes) {
    record.updatedAt = now
    if (change.kind === 'state') {
      record.state = change.state
      if (change.error) record.error = change.error
      if (change.step !== undefined && waitsOnStep(change.state)) record.parkedStep = change.step
      else delete record.parkedStep
      continue
    }
    const phases = change.phase === 'step' ? record.steps : record.compensations
    const phase = phases.get(change.step) ?? { status: change.status, failures: 0 }
    phase.status = change.status
    if (change.resultJson !== undefined) phase.result = JSON.parse(change.resultJson)
    if (change.error) phase.error = change.error
    if (change.status === 'failed') phase.failures += 1
    if (change.status === 'deferred') record.deferredInvalidations += 1
    phases.set(change.step, phase)
  }
}

/**
 * A saga a store has just created from `create` (running, its changes applied), as the store wrote it: a store
 * returns it from `acquire` without reading it back. `now` stamps `createdAt` and `updatedAt`.
 */
export function createdRecord(sagaId: string, create: NewSaga, now = Date.now()): SagaRecord {
  const record: SagaRecord = {
    sagaId,
    name: create.name,
    input: JSON.parse(create.inputJson),
    state: 'running',
    createdAt: now,
    updatedAt: now,
    deferredInvalidations: 0,
    steps: new Map(),
    compensations: new Map(),
  }
  if (create.traceCarrier) record.traceCarrier = { ...create.traceCarrier }
  if (create.changes) applyChanges(record, create.changes, now)
  return record
}

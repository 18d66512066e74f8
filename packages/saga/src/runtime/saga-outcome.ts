import type { RecordedError } from '../errors.js'
import type { SagaRecord, SagaState } from '../store/saga-record.js'

/** Where a saga ended up when `run` (or a recovery sweep, or an operator action) stopped driving it. */
export interface SagaOutcome<Results = Record<string, unknown>> {
  sagaId: string
  saga: string
  state: SagaState
  /** Results of the steps that completed (JSON round-tripped). */
  results: Partial<Results>
  /** The failure that sent the saga into compensation or parking. */
  error?: RecordedError
  /** The step a parked or compensation_failed saga waits on. */
  parkedStep?: string
  /** Invalidations handed to the retry scheduler instead of done in the step. */
  deferredInvalidations: number
}

export function toOutcome<Results>(record: SagaRecord): SagaOutcome<Results> {
  const results: Record<string, unknown> = {}
  for (const [name, log] of record.steps) if (log.status === 'completed') results[name] = log.result
  return {
    sagaId: record.sagaId,
    saga: record.name,
    state: record.state,
    results: results as Partial<Results>,
    deferredInvalidations: record.deferredInvalidations,
    ...(record.error && { error: record.error }),
    ...(record.parkedStep && { parkedStep: record.parkedStep }),
  }
}

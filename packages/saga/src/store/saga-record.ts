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

export type PhaseStatus = 'started' | 'completed' | 'failed' | 'rejected' | 'deferred' | 'skipped'

/** The log of one step, or of one step's compensation. */
export interface PhaseRecord {
  status: PhaseStatus
  /** Failures counted toward the retry budget (reset by an operator retry). */
  failures: number
  /** The recorded result (steps only), JSON round-tripped. */
  result?: unknown
}

/** A saga as stored in Redis. */
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
  steps: Map<string, PhaseRecord>
  compensations: Map<string, PhaseRecord>
}

/** Rebuilds a record from the hash that the Lua scripts write (fields `step:<name>:status` and so on). */
export function parseSagaRecord(sagaId: string, hash: Record<string, string>): SagaRecord | undefined {
  if (hash.name === undefined || hash.state === undefined) return undefined
  const record: SagaRecord = {
    sagaId,
    name: hash.name,
    input: JSON.parse(hash.input ?? 'null'),
    state: hash.state as SagaState,
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt),
    deferredInvalidations: Number(hash.deferredInvalidations ?? 0),
    steps: new Map(),
    compensations: new Map(),
  }
  if (hash.parkedStep) record.parkedStep = hash.parkedStep
  if (hash.error) record.error = JSON.parse(hash.error) as RecordedError
  for (const [field, value] of Object.entries(hash)) {
    const match = /^(step|comp):(.+):status$/.exec(field)
    if (!match) continue
    const [, phase, step] = match as unknown as [string, 'step' | 'comp', string]
    const phaseRecord: PhaseRecord = {
      status: value as PhaseStatus,
      failures: Number(hash[`${phase}:${step}:failures`] ?? 0),
    }
    const result = hash[`${phase}:${step}:result`]
    if (result !== undefined) phaseRecord.result = JSON.parse(result)
    ;(phase === 'step' ? record.steps : record.compensations).set(step, phaseRecord)
  }
  return record
}

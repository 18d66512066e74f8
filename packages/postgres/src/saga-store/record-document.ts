import type {
  PhaseRecord,
  PhaseStatus,
  RecordedError,
  SagaLogEntry,
  SagaRecord,
  SagaState,
} from '@cachesaga/saga'

/** A saga as the `saga_record` function of the migration returns it (the only code that reads that shape). */
export interface RecordDocument {
  name: string
  input: unknown
  state: SagaState
  createdAt: number
  updatedAt: number
  parkedStep: string | null
  error: RecordedError | null
  deferredInvalidations: number
  phases: Array<{
    phase: 'step' | 'compensation'
    step: string
    status: PhaseStatus
    failures: number
    /** `[result]` when one was recorded, so that a recorded JSON null differs from none. */
    result: [unknown] | null
    error: RecordedError | null
  }>
}

/** The record of `sagaId` from its document; the document's absent fields are left out, as `applyChanges` leaves them. */
export function recordFromDocument(sagaId: string, document: RecordDocument): SagaRecord {
  const record: SagaRecord = {
    sagaId,
    name: document.name,
    input: document.input,
    state: document.state,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
    deferredInvalidations: document.deferredInvalidations,
    steps: new Map(),
    compensations: new Map(),
  }
  if (document.parkedStep !== null) record.parkedStep = document.parkedStep
  if (document.error !== null) record.error = document.error
  for (const phase of document.phases) {
    const phaseRecord: PhaseRecord = { status: phase.status, failures: phase.failures }
    if (phase.result !== null) phaseRecord.result = phase.result[0]
    if (phase.error !== null) phaseRecord.error = phase.error
    ;(phase.phase === 'step' ? record.steps : record.compensations).set(phase.step, phaseRecord)
  }
  return record
}

/** A row of `saga_log` as the store reads it (`at` in ms, as text: a bigint). */
export interface LogRow {
  at: string
  event: string
  step: string | null
  attempt: number | null
  state: SagaState | null
  error: RecordedError | null
  actor: string | null
  note: string | null
}

/** A log entry with only the fields the row has. */
export function logEntryFromRow(row: LogRow): SagaLogEntry {
  const entry: SagaLogEntry = { at: Number(row.at), event: row.event }
  if (row.step !== null) entry.step = row.step
  if (row.attempt !== null) entry.attempt = row.attempt
  if (row.state !== null) entry.state = row.state
  if (row.error !== null) entry.error = row.error
  if (row.actor !== null) entry.actor = row.actor
  if (row.note !== null) entry.note = row.note
  return entry
}

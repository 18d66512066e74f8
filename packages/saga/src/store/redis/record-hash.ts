import type { RecordedError } from '../../errors.js'
import type { PhaseRecord, PhaseStatus, SagaRecord, SagaState } from '../saga-record.js'

// The saga record is one hash: `name`, `input`, `state`, `createdAt`, `updatedAt`, `owner`, `leaseUntil`, `error`,
// `parkedStep`, `deferredInvalidations`, `trace` (the trace context it was started in, JSON), and per step `step:<name>:status|failures|result|error` and
// `comp:<name>:status|failures|error`. This module alone knows those field names.

export const phaseField = (phase: 'step' | 'compensation', step: string) =>
  `${phase === 'step' ? 'step' : 'comp'}:${step}:`

const PHASE_FIELD = /^(step|comp):(.+):status$/

/** Rebuilds a record from its hash (HGETALL, as an object or a flat field/value list); undefined when there is none. */
export function parseRecordHash(
  sagaId: string,
  reply: Record<string, string> | readonly string[],
): SagaRecord | undefined {
  const hash = Array.isArray(reply)
    ? pairsToObject(reply as readonly string[])
    : (reply as Record<string, string>)
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
  if (hash.trace) record.traceCarrier = JSON.parse(hash.trace) as Record<string, string>
  for (const [field, value] of Object.entries(hash)) {
    const match = PHASE_FIELD.exec(field)
    if (!match) continue
    const [, phase, step] = match as unknown as [string, 'step' | 'comp', string]
    const phaseRecord: PhaseRecord = {
      status: value as PhaseStatus,
      failures: Number(hash[`${phase}:${step}:failures`] ?? 0),
    }
    const result = hash[`${phase}:${step}:result`]
    if (result !== undefined) phaseRecord.result = JSON.parse(result)
    const error = hash[`${phase}:${step}:error`]
    if (error !== undefined) phaseRecord.error = JSON.parse(error) as RecordedError
    ;(phase === 'step' ? record.steps : record.compensations).set(step, phaseRecord)
  }
  return record
}

function pairsToObject(pairs: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!
  return hash
}

import { type SagaChange, waitsOnStep } from '../saga-change.js'
import type { SagaState } from '../saga-record.js'
import { phaseField } from './record-hash.js'

/**
 * A write as `lua/lib/apply-write.lua` applies it: counts, the state it ends in, then the hash fields to set, the
 * failure counters to increment, the fields to delete and the log entries. Everything is prepared here, so the script
 * on the hot path only fences and applies (a step's completion and the next start cost Redis about what one plain
 * HSET and RPUSH cost). The only code that knows these positions.
 *
 * `now` (the runner's clock) stamps `updatedAt` and the log entries; leases and retention ages use the Redis clock.
 */
export function encodeWrite(changes: readonly SagaChange[], now: number): Array<string | number> {
  const sets: Array<string | number> = ['updatedAt', now]
  const increments: string[] = []
  const deletes: string[] = []
  const log: string[] = []
  let state: SagaState | '' = ''
  for (const change of changes) {
    const error = change.error && JSON.stringify(change.error)
    if (change.kind === 'state') {
      state = change.state
      if (error) sets.push('error', error)
      const parked = waitsOnStep(change.state) ? change.step : undefined
      if (parked !== undefined) sets.push('parkedStep', parked)
      else deletes.push('parkedStep')
      log.push(entry(now, `saga.${change.state}`, change.step, undefined, error))
      continue
    }
    const field = phaseField(change.phase, change.step)
    sets.push(`${field}status`, change.status)
    if (change.resultJson !== undefined) sets.push(`${field}result`, change.resultJson)
    if (error) sets.push(`${field}error`, error)
    if (change.status === 'failed') increments.push(`${field}failures`)
    if (change.status === 'deferred') increments.push('deferredInvalidations')
    log.push(entry(now, `${change.phase}.${change.status}`, change.step, change.attempt, error))
  }
  return [
    sets.length / 2,
    increments.length,
    deletes.length,
    log.length,
    state,
    ...sets,
    ...increments,
    ...deletes,
    ...log,
  ]
}

/** A log entry as JSON, built by hand on the hot path; `error` is already JSON. */
function entry(at: number, event: string, step?: string, attempt?: number, error?: string): string {
  return (
    `{"at":${at},"event":"${event}"` +
    (step === undefined ? '' : `,"step":${JSON.stringify(step)}`) +
    (attempt === undefined ? '' : `,"attempt":${attempt}`) +
    (error === undefined ? '' : `,"error":${error}`) +
    '}'
  )
}

/** True when one of the changes moves the saga to another state (the script then needs the bucket's index keys). */
export const changesState = (changes: readonly SagaChange[]) =>
  changes.some((change) => change.kind === 'state')

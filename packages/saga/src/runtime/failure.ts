import { describeIssues, errorCode } from '@cachesaga/common'
import type { z } from 'zod'
import { type RecordedError, SagaError, type SagaErrorCode } from '../errors.js'

/**
 * The three kinds of failure, each handled its own way (README, "What happens on failure"):
 * - `rejection`: a `DomainRejection`; the domain said no and the step changed nothing. Not retried.
 * - `deterministic`: the same attempt would fail the same way again (a result that is not JSON, an input or target
 *   that does not validate). Not retried: a retry would repeat the step's side effect for nothing.
 * - `transient`: anything else (a timeout, a connection reset). Retried with the step's policy.
 */
export type FailureKind = 'rejection' | 'deterministic' | 'transient'

/** Codes that mean "a programming or data error", never weather: retrying cannot change the outcome. */
const DETERMINISTIC_CODES: ReadonlySet<string> = new Set<SagaErrorCode>([
  'SAGA_ERR_RESULT_NOT_SERIALIZABLE',
  'SAGA_ERR_INVALID_INPUT',
  'SAGA_ERR_INVALID_TARGET',
  'SAGA_ERR_INVALID_OPTIONS',
])

/** Classifies what a step (or compensation) threw and records it, naming the step. */
export function classifyFailure(
  thrown: unknown,
  phase: 'step' | 'compensation',
  step: string,
): { kind: FailureKind; error: RecordedError } {
  const failure = isZodError(thrown)
    ? new SagaError('SAGA_ERR_INVALID_INPUT', describeIssues(thrown.issues), { cause: thrown })
    : thrown
  const error = { ...recordError(failure, 'SAGA_ERR_STEP_FAILED'), step }
  const code = errorCode(failure)
  // A rejection of a compensation is not the domain refusing a booking: undoing must go on, so it is retried.
  if (code === 'SAGA_ERR_DOMAIN_REJECTION' && phase === 'step') return { kind: 'rejection', error }
  if (code !== undefined && DETERMINISTIC_CODES.has(code)) return { kind: 'deterministic', error }
  return { kind: 'transient', error }
}

/**
 * A failure as plain data. `fallbackCode` is recorded for an error without a code of its own (a plain `Error` thrown
 * by a step is `SAGA_ERR_STEP_FAILED`). Details that are not JSON are left out rather than break the record.
 */
export function recordError(error: unknown, fallbackCode: SagaErrorCode): RecordedError {
  if (!(error instanceof Error)) return { code: fallbackCode, name: 'NonError', message: String(error) }
  const recorded: RecordedError = {
    code: errorCode(error) ?? fallbackCode,
    name: error.name,
    message: error.message,
  }
  const { domainCode, details } = error as { domainCode?: unknown; details?: unknown }
  if (typeof domainCode === 'string') recorded.domainCode = domainCode
  if (isJsonObject(details)) recorded.details = details
  return recorded
}

/** A step's result as the JSON that will be stored; SAGA_ERR_RESULT_NOT_SERIALIZABLE (deterministic) otherwise. */
export function serializeResult(step: string, value: unknown): string {
  try {
    // `undefined` (a step with nothing to return) and a bare function are stored as null.
    return JSON.stringify(value ?? null) ?? 'null'
  } catch (error) {
    throw new SagaError(
      'SAGA_ERR_RESULT_NOT_SERIALIZABLE',
      `step "${step}" returned a value that cannot be stored as JSON (${(error as Error).message}); return plain data`,
      { cause: error, details: { step } },
    )
  }
}

// By shape rather than class: a step may use another copy (or major version) of zod than this package.
function isZodError(error: unknown): error is z.ZodError {
  return error instanceof Error && error.name === 'ZodError' && Array.isArray((error as z.ZodError).issues)
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  try {
    JSON.stringify(value)
    return true
  } catch {
    return false
  }
}

/** Stable codes of every error @cachesaga/saga throws or records; search for them in the README. */
export type SagaErrorCode =
  | 'SAGA_ERR_INVALID_INPUT'
  | 'SAGA_ERR_INVALID_OPTIONS'
  | 'SAGA_ERR_DEFINITION'
  | 'SAGA_ERR_DOMAIN_REJECTION'
  | 'SAGA_ERR_STEP_TIMEOUT'
  | 'SAGA_ERR_LEASE_LOST'
  | 'SAGA_ERR_ID_CONFLICT'
  | 'SAGA_ERR_UNKNOWN_SAGA'
  | 'SAGA_ERR_NOT_FOUND'
  | 'SAGA_ERR_INVALID_STATE'
  | 'SAGA_ERR_INVALIDATION_FAILED'

/** The one error base class of the package. */
export class SagaError extends Error {
  override name = 'SagaError'

  constructor(
    readonly code: SagaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options)
  }
}

/**
 * Thrown by a step to say "the domain said no" (slot taken, card declined): the step changed nothing, so retrying is
 * pointless. Before or at the pivot the saga compensates; after it the saga parks for an operator.
 */
export class DomainRejection extends SagaError {
  override name = 'DomainRejection'

  constructor(message: string, options?: { cause?: unknown }) {
    super('SAGA_ERR_DOMAIN_REJECTION', message, options)
  }
}

/** How a failure is kept in the saga record and log: plain data, since it outlives the process. */
export interface RecordedError {
  code?: string
  name: string
  message: string
}

export function recordError(error: unknown): RecordedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string'
      ? { code, name: error.name, message: error.message }
      : { name: error.name, message: error.message }
  }
  return { name: 'NonError', message: String(error) }
}

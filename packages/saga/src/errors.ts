import { CachesagaError } from '@cachesaga/common'

/** Stable codes of every error @cachesaga/saga throws or records; the README lists when each is raised. */
export type SagaErrorCode =
  | 'SAGA_ERR_INVALID_INPUT'
  | 'SAGA_ERR_INVALID_OPTIONS'
  | 'SAGA_ERR_DEFINITION'
  | 'SAGA_ERR_DOMAIN_REJECTION'
  | 'SAGA_ERR_STEP_FAILED'
  | 'SAGA_ERR_STEP_TIMEOUT'
  | 'SAGA_ERR_RESULT_NOT_SERIALIZABLE'
  | 'SAGA_ERR_INVALID_TARGET'
  | 'SAGA_ERR_LEASE_LOST'
  | 'SAGA_ERR_ID_CONFLICT'
  | 'SAGA_ERR_UNKNOWN_SAGA'
  | 'SAGA_ERR_NOT_FOUND'
  | 'SAGA_ERR_INVALID_STATE'
  | 'SAGA_ERR_INVALIDATION_FAILED'
  | 'SAGA_ERR_STORE_FAILED'
  | 'SAGA_ERR_STORE_NOT_DURABLE'
  | 'SAGA_ERR_STORE_DURABILITY_UNKNOWN'
  | 'SAGA_ERR_CLOSED'

/** The one error base class of the package: the code is a field, never part of the message. */
export class SagaError extends CachesagaError<SagaErrorCode> {
  override name = 'SagaError'
}

/**
 * Thrown by a step to say "the domain said no" (slot taken, card declined): the step changed nothing, so retrying is
 * pointless. Before or at the pivot the saga compensates; after it the saga parks for an operator. `domainCode` is
 * the domain's own code (`BOOKING_ERR_SLOT_TAKEN`) and `details` its facts; both reach the saga's outcome as fields.
 */
export class DomainRejection extends SagaError {
  override name = 'DomainRejection'

  constructor(
    readonly domainCode: string,
    message: string,
    details?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super('SAGA_ERR_DOMAIN_REJECTION', message, {
      ...(details !== undefined && { details }),
      ...(options?.cause !== undefined && { cause: options.cause }),
    })
  }

  override toJSON() {
    return { ...super.toJSON(), domainCode: this.domainCode }
  }
}

/**
 * How a failure is kept in the saga record, log and outcome: plain data, since it outlives the process. A caller
 * switches on `code` (and `domainCode` for a rejection); `message` is for people.
 */
export interface RecordedError {
  /** The error's own code (`SAGA_ERR_...`, `CS_ERR_...`, `ECONNRESET`), or `SAGA_ERR_STEP_FAILED` when it had none. */
  code: string
  name: string
  message: string
  /** The step whose run (or compensation) failed. */
  step?: string
  /** A `DomainRejection`'s domain code. */
  domainCode?: string
  /** Structured facts of a coded error (a rejection's details, the field or target at fault). */
  details?: Record<string, unknown>
}

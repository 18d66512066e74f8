/** Stable codes a person can search for; each names one failure of this package. */
export type QueueErrorCode =
  | 'CSQ_ERR_INVALID_EVENT'
  | 'CSQ_ERR_INVALID_OPTIONS'
  | 'CSQ_ERR_INVALID_HANDLERS'
  | 'CSQ_ERR_INVALID_JOB'
  | 'CSQ_ERR_UNKNOWN_JOB'
  | 'CSQ_ERR_PURGE_TOKEN'

/** The one error class of @cachesaga/queue; switch on `code`, not on the message. */
export class QueueError extends Error {
  override readonly name = 'QueueError'

  constructor(
    readonly code: QueueErrorCode,
    /** The message without the code, for wrapping into a larger message. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${reason}`, options)
  }
}

import { CachesagaError } from '@cachesaga/common'

/** Stable codes a person can search for; each names one failure of this package (listed in the README). */
export type QueueErrorCode =
  | 'CSQ_ERR_INVALID_DEFINITION'
  | 'CSQ_ERR_INVALID_EVENT'
  | 'CSQ_ERR_INVALID_OPTIONS'
  | 'CSQ_ERR_INVALID_HANDLERS'
  | 'CSQ_ERR_INVALID_JOB'
  | 'CSQ_ERR_ENQUEUE_FAILED'
  | 'CSQ_ERR_UNKNOWN_JOB'
  | 'CSQ_ERR_PURGE_TOKEN'

/** The error class of @cachesaga/queue: switch on `code`; the message is for people and never contains it. */
export class QueueError extends CachesagaError<QueueErrorCode> {
  override name = 'QueueError'
}

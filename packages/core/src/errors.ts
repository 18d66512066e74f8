import { CachesagaError } from '@cachesaga/common'
import type { InvalidationReport } from './invalidation/report.js'

/** Stable error codes of @cachesaga/core. Search for the code to find where and why it is raised. */
export type CacheErrorCode =
  | 'CS_ERR_INVALID_OPTION'
  | 'CS_ERR_INVALID_KEY'
  | 'CS_ERR_INVALID_TARGET'
  | 'CS_ERR_MATCH_ALL_REFUSED'
  | 'CS_ERR_LOADER_HARD_TIMEOUT'
  | 'CS_ERR_INVALIDATION_FAILED'
  | 'CS_ERR_CLEAR_TOKEN'
  | 'CS_ERR_UNSERIALIZABLE'
  | 'CS_ERR_CLOSED'

/** The one error class of the package; `code` is a stable field, the message is for people. */
export class CacheError extends CachesagaError<CacheErrorCode> {
  override name = 'CacheError'
}

/** CS_ERR_MATCH_ALL_REFUSED: `pattern` matches every key and `{ all: true }` was not given. */
export class MatchAllRefusedError extends CacheError {
  constructor(
    readonly pattern: string,
    field: string,
  ) {
    super(
      'CS_ERR_MATCH_ALL_REFUSED',
      `${field}: ${JSON.stringify(pattern)} matches every key; pass { all: true } if that is meant`,
      { details: { field, pattern } },
    )
  }
}

/** `invalidate`/`clear` could not apply every target even after retries; `report` says which. */
export class InvalidationError extends CacheError {
  constructor(readonly report: InvalidationReport) {
    const first = report.errors[0]
    super(
      'CS_ERR_INVALIDATION_FAILED',
      `invalidation incomplete: ${report.errors.length} item(s) failed` +
        (first ? `, first ${first.kind} ${JSON.stringify(first.target)}: ${first.error.message}` : ''),
    )
  }
}

/** CS_ERR_INVALID_OPTION naming `field`; `details` holds the field and the reason apart, for callers that rename the field. */
export function invalidOption(field: string, reason: string): CacheError {
  return new CacheError('CS_ERR_INVALID_OPTION', `${field}: ${reason}`, { details: { field, reason } })
}

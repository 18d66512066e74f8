import type { Change, ChangeHandler } from '../capture/change.js'
import type { ChangeCapture } from '../capture/change-capture.js'
import { PostgresError } from '../errors.js'
import type { InvalidatingCache } from './invalidating-cache.js'

export interface InvalidateOnChangeOptions {
  cache: InvalidatingCache
  /** The declarations that map a change to its targets. */
  capture: ChangeCapture
  /** Called after a change's targets were invalidated (not for a change that maps to nothing). */
  onInvalidated?: (change: Change) => void
}

/**
 * The change handler that does what the package is for: `cache.invalidate` with the declared targets of
 * the change's old and new row. It rejects when the cache reports the invalidation as not done, so the
 * listener offers the change again instead of passing it.
 */
export function invalidateOnChange({
  cache,
  capture,
  onInvalidated,
}: InvalidateOnChangeOptions): ChangeHandler {
  return async (change) => {
    const target = capture.targetsOf(change)
    if (target === undefined) return
    const report = await cache.invalidate(target)
    if (!report.ok) {
      throw new PostgresError(
        'PG_ERR_DELIVERY_FAILED',
        `the cache reported the invalidation of change ${change.id} (${change.table}) as not done`,
        { details: { changeId: change.id, table: change.table, report } },
      )
    }
    onInvalidated?.(change)
  }
}

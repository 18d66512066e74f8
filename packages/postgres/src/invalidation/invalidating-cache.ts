import type { InvalidationTarget } from '@cachesaga/core'

/**
 * The part of a @cachesaga/core cache this package uses to invalidate. Structural, so a cache behind a
 * proxy or in another process fits, and tests can pass a small double. `ok: false` counts as a failure.
 */
export interface InvalidatingCache {
  invalidate(target: InvalidationTarget): Promise<{ ok: boolean }>
}
